// The one way the screens talk to the API: bearer token (kept for this tab only), language header, errors.
import { currentLanguage, t } from "./i18n.js";

const TOKEN_KEY = "casehall-token";
let onUnauthorized = () => {};

export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token) => sessionStorage.setItem(TOKEN_KEY, token);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);
export function whenUnauthorized(handler) { onUnauthorized = handler; }

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

const N_ = (s) => s;  // marks a label for the catalogue; translated where it is shown
const PREFIX = {
  400: N_("The request is not valid"), 403: N_("Not allowed"), 404: N_("Not found"), 409: N_("Not possible now"),
  422: N_("Please check the input"), 429: N_("Too many attempts"), 502: N_("The workflow engine answered with an error"),
  503: N_("The service is not reachable; try again shortly"),
};

/** The message of an error body: the new {"error": {...}} shape or the legacy {"detail": ...}. */
export function errorText(status, body) {
  let message = "", field = null;
  if (body && typeof body === "object") {
    if (body.error && typeof body.error === "object") {
      message = body.error.message || body.error.code || "";
      field = body.error.field || null;
    } else if (typeof body.detail === "string") {
      message = body.detail;
    } else if (Array.isArray(body.detail)) {
      message = body.detail.map((e) => {
        const where = (e.loc || []).filter((x) => x !== "body").join(".");
        return where ? `${where}: ${e.msg}` : e.msg;
      }).join("; ");
      field = body.detail[0]?.loc?.slice(-1)[0] ?? null;
    }
  } else if (typeof body === "string") {
    message = body.slice(0, 300);
  }
  const prefix = t(PREFIX[status] || (status >= 500 ? N_("Server error") : N_("The request failed")));
  return {message: message ? `${prefix}: ${message}` : prefix, field};
}

/** Call the API; JSON in, JSON (or a Blob with raw) out; throws ApiError with a readable message. With
 * withHeaders: {data, headers} (e.g. a page's X-Total-Count and X-Next-Cursor). */
export async function api(path, {method = "GET", body, raw = false, withHeaders = false} = {}) {
  const headers = {"Accept-Language": currentLanguage()};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let r;
  try {
    r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                           cache: "no-store"});
  } catch {
    throw new ApiError(0, t("The server cannot be reached; check the network"));
  }
  if (r.status === 401 && path !== "/auth/login" && path !== "/auth/logout") {
    onUnauthorized();
    throw new ApiError(401, t("Your session has ended; please log in again"));
  }
  if (!r.ok) {
    const isJson = r.headers.get("content-type")?.includes("json");
    const payload = isJson ? await r.json().catch(() => null) : await r.text().catch(() => "");
    const {message, field} = errorText(r.status, payload);
    throw new ApiError(r.status, message, field);
  }
  if (raw) return r.blob();
  if (r.status === 204) return null;
  const data = await (r.headers.get("content-type")?.includes("json") ? r.json() : r.text());
  return withHeaders ? {data, headers: r.headers} : data;
}

export const post = (path, body) => api(path, {method: "POST", body: body === undefined ? {} : body});
