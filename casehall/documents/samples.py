"""One stored document of every kind, as a case records it (content after ``casehall.store.documents``).

    python -m casehall.documents.samples docs/documents   # writes each as PDF and its first page as PNG (pdftoppm)

The tests print them, and the README shows their first pages.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ISSUED = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in Changchun
MKT = {"code": "MKT", "name": "长春市市场监督管理局"}
CITY = {"code": "CITY", "name": "长春市政务服务中心"}
REMEDIES = {"reconsideration_body": "长春市人民政府", "reconsideration_days": 60,
            "court": "长春市朝阳区人民法院", "litigation_months": 6}
HANDLER = {"name": "王芳", "title": "窗口工作人员", "username": "clerk"}
COMMON = {"layout": 2, "timezone": "Asia/Shanghai", "applicant": "李喆", "hall": "长春市政务服务中心",
          "window": "综合受理3号窗口", "registered_at": "2026-11-20T02:30:00+00:00", "handler": HANDLER,
          "issued_on": "2026-11-22"}

REJECTION: dict[str, Any] = COMMON | {
    "case_no": "HALL-20261120-000123", "item": "MKT-001 个体工商户设立登记", "item_code": "MKT-001",
    "item_name": "个体工商户设立登记", "decided_at": "2026-11-22T02:00:00+00:00",
    "reasons": "申请登记的经营场所为住宅，申请人未提交有利害关系的业主同意将住宅改变为经营性用房的证明。",
    "legal_basis": "《中华人民共和国民法典》第二百七十九条；《促进个体工商户发展条例》第九条",
    "requested_by": "clerk", "approved_by": "manager", "approver_role": "manager",
    "authority": MKT, "doc_no": "长市监不受〔2026〕12号", "remedies": REMEDIES,
    "approver": {"name": "张明", "title": "登记注册科科长", "username": "manager"},
}
ONE_TIME: dict[str, Any] = COMMON | {
    "case_no": "HALL-20261120-000124", "item": "HOUSING-002 建筑工程施工许可", "item_code": "HOUSING-002",
    "item_name": "建筑工程施工许可", "issued_at": "2026-11-22T02:00:00+00:00", "accepted": True,
    "missing": [
        {"material": "安全施工措施资料", "main": False, "how_to_supply": "加盖公章的资料，可网上上传"},
        {"material": "建设资金落实证明", "main": False, "how_to_supply": "银行出具的资金证明原件"},
    ],
    "supplement_deadline": "2026-11-27T09:00:00+00:00",
    "authority": {"code": "HOUSING", "name": "长春市住房和城乡建设局"}, "doc_no": "长住建告知〔2026〕7号",
}
SUPPLEMENT: dict[str, Any] = COMMON | {
    "case_no": "HALL-20261120-000125", "item": "MKT-001 个体工商户设立登记", "item_code": "MKT-001",
    "item_name": "个体工商户设立登记", "accepted": False,
    "missing": [{"material": "经营场所使用证明", "main": True,
                 "how_to_supply": "房产证或租赁合同复印件，须与原件一致"}],
    "supplement_deadline": "2026-11-27T09:00:00+00:00",
    "legal_basis": "《中华人民共和国行政许可法》第三十二条第一款第（四）项",
    "authority": MKT, "doc_no": "长市监补正〔2026〕31号",
}
COMBINED: dict[str, Any] = COMMON | {
    "case_no": "HALL-20261120-000126", "issued_at": "2026-11-22T02:00:00+00:00",
    "matters": [
        {"case_no": "HALL-20261120-000127", "item": "MKT-001", "item_name": "个体工商户设立登记", "department": "MKT",
         "department_name": "长春市市场监督管理局", "outcome": "办结", "result": "已核发营业执照", "reasons": "",
         "legal_basis": ""},
        {"case_no": "HALL-20261120-000128", "item": "HOUSING-002", "item_name": "建筑工程施工许可",
         "department": "HOUSING", "department_name": "长春市住房和城乡建设局", "outcome": "不予受理", "result": "",
         "reasons": "该工程尚未取得建设工程规划许可证。", "legal_basis": "《建筑工程施工许可管理办法》第四条",
         "doc_no": "长住建不受〔2026〕3号",
         "remedies": REMEDIES | {"court": "长春市南关区人民法院"}},
    ],
    "authority": CITY, "doc_no": "长政服结果〔2026〕5号",
}
MINUTES: dict[str, Any] = {
    "layout": 2, "timezone": "Asia/Shanghai", "consultation_id": "C-HALL-20261120-000129-1",
    "case_no": "HALL-20261120-000129",
    "question": "申请人拟在临街住宅一层开设餐饮店，是否可以办理个体工商户登记及食品经营许可？",
    "lead": MKT, "departments": [{"code": "HOUSING", "name": "长春市住房和城乡建设局"},
                                 {"code": "SOCIAL", "name": "长春市人力资源和社会保障局"}],
    "opened_at": "2026-11-18T01:00:00+00:00", "deadline": "2026-11-25T09:00:00+00:00",
    "opinions": [{"department": "HOUSING", "department_name": "长春市住房和城乡建设局", "version": 2,
                  "decision": "agree_with_conditions", "text": "须取得有利害关系业主的书面同意。",
                  "legal_basis": "《中华人民共和国民法典》第二百七十九条",
                  "by": {"name": "赵刚", "title": "科长"}, "at": "2026-11-19T03:00:00+00:00"}],
    "missing": [{"code": "SOCIAL", "name": "长春市人力资源和社会保障局"}],
    "extensions": [{"days": 2, "reason": "等待住建部门补充意见", "at": "2026-11-19T01:00:00+00:00"}],
    "conclusion": {"decision": "accept", "reasons": "申请人已补交业主同意书，予以受理。", "legal_basis": "",
                   "follows": ["长春市住房和城乡建设局"], "no_answer": ["长春市人力资源和社会保障局"],
                   "by": {"name": "张明", "title": "登记注册科科长"}, "at": "2026-11-22T02:00:00+00:00"},
    "convened_by": {"name": "王芳", "title": "窗口工作人员"},
    "authority": MKT, "doc_no": "长市监会商〔2026〕2号", "issued_on": "2026-11-22",
}
SAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "rejection_notice": ("不予受理告知书", REJECTION),
    "one_time_notice": ("一次性告知单", ONE_TIME),
    "supplement_notice": ("材料补正通知单", SUPPLEMENT),
    "combined_result": ("办理结果告知书", COMBINED),
    "consultation_minutes": ("联合会商纪要", MINUTES),
}


def write(directory: Path) -> list[Path]:
    """Render every sample into ``directory``: <kind>.pdf, and <kind>.png of page 1 when pdftoppm is there."""
    from casehall.documents.pdf import render_document

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, (title, content) in SAMPLES.items():
        pdf = directory / f"{kind}.pdf"
        pdf.write_bytes(render_document(kind, title, content, ISSUED))
        written.append(pdf)
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                            str(directory / kind)], check=True)
            written.append(directory / f"{kind}.png")
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/documents")):
        print(path)
