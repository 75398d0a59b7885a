"""Rich renderings of the audit results for the terminal."""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from rich.markup import escape
from rich.table import Table

from casehall.audit.chain import ChainReport
from casehall.audit.checks import AuditSummary, CaseAudit
from casehall.audit.replay import Verdict
from casehall.audit.timeline import Timeline


def chain_table(reports: Sequence[ChainReport]) -> Table:
    table = Table(title="broken chains")
    for column in ("case", "seq", "kind", "found by", "detail"):
        table.add_column(column)
    for report in reports:
        for b in report.breaks:
            table.add_row(report.case_no, str(b.seq), b.kind.value, b.source, escape(b.detail))
    return table


def timeline_table(t: Timeline, tz: str) -> Table:
    zone = ZoneInfo(tz)
    when = f" as of {t.as_of.astimezone(zone):%Y-%m-%d %H:%M}" if t.as_of else ""
    s = t.state
    state = "not registered yet" if s is None else (
        f"{s.status}, clerk {s.clerk_username or s.clerk_id}"
        + (f", deadline {s.deadline.astimezone(zone):%Y-%m-%d %H:%M}" if s.deadline else "")
        + (f", rated {s.satisfaction}" if s.satisfaction else "")
        + (f", closed {s.closed_at.astimezone(zone):%Y-%m-%d %H:%M}" if s.closed_at else ""))
    table = Table(title=f"{t.case_no} ({t.item_code}, {t.department_code}){when}: {state}")
    for column in ("seq", "time", "event", "actor", "status", "decision / documents"):
        table.add_column(column)
    for e in t.entries:
        actor = f"{e.actor_username or e.actor_id} ({e.actor_role})" if e.actor_id is not None else "system"
        notes = [e.decision] if e.decision else []
        notes += [f"{d.title} ({d.kind}) {d.download}" for d in e.documents]
        table.add_row(str(e.seq), f"{e.at.astimezone(zone):%Y-%m-%d %H:%M:%S}", e.type, actor, e.status,
                      escape("\n".join(notes)))
    return table


def replay_lines(audit: CaseAudit) -> list[str]:
    r = audit.replay
    colour = "green" if r.ok else "red"
    lines = [f"[{colour}]{r.verdict.value.upper()}[/{colour}] {audit.case_no} replayed from {r.source} "
             f"({r.replayed_events} events recorded by the replay)"]
    lines += [f"  mismatch: {escape(m)}" for m in r.mismatches]
    if r.error:
        lines.append(f"  {escape(r.error)}")
    chain = "[green]chain ok[/green]" if audit.chain.ok else "[red]chain broken[/red]"
    lines.append(f"  {chain} ({audit.chain.events} events, head {audit.chain.head_seq})")
    lines += [f"  {b.kind.value} at {b.seq} ({b.source}): {escape(b.detail)}" for b in audit.chain.breaks]
    return lines


def audit_table(summary: AuditSummary) -> Table:
    table = Table(title=f"{len(summary.cases)} cases: {len(summary.cases) - len(summary.failed)} ok, "
                        f"{len(summary.failed)} with findings")
    for column in ("case", "replay", "source", "finding"):
        table.add_column(column)
    for audit in summary.failed:
        r = audit.replay
        findings = r.mismatches + ([r.error] if r.error else [])
        findings += [f"chain {b.kind.value} at {b.seq}: {b.detail}" for b in audit.chain.breaks]
        table.add_row(audit.case_no, r.verdict.value, r.source, escape("\n".join(findings)))
    counts = ", ".join(f"{v.value} {summary.count(v)}" for v in Verdict)
    table.caption = f"{counts}; broken chains {summary.broken_chains}" + (
        "" if summary.anchor_intact else "; the newest anchor was altered")
    return table
