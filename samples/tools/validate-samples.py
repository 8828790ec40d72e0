#!/usr/bin/env python3
"""validate-samples.py: check that samples/ holds what the brief and docs/formats.md promise.

Independent of gen-samples.py on purpose: headers and quirks are written out
here literally (from formats.md), and the intrusion story is checked by
reading the files back the way an analyst's tool would. Prints one
"ok - ..." / "not ok - ..." line per check and exits 1 if any failed.

    python3 samples/tools/validate-samples.py [SAMPLES_DIR]
"""

import csv
import datetime as dt
import io
import ipaddress
import json
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TEN = os.path.join(ROOT, "tenant")
FMT = os.path.join(ROOT, "formats")

results = []


def check(cond, what):
    results.append(bool(cond))
    print("%s - %s" % ("ok" if cond else "not ok", what))
    return bool(cond)


def raw(path):
    with open(path, "rb") as fh:
        return fh.read()


def text(path, enc="utf-8-sig"):
    return raw(path).decode(enc)


def csv_rows(data, delimiter=","):
    return list(csv.reader(io.StringIO(data, newline=""), delimiter=delimiter))


def jsonl(data):
    return [json.loads(x) for x in data.splitlines() if x.strip()]


def concatenated(data):
    """Top-level JSON values separated by whitespace (Extractor-Suite -Output JSON)."""
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(data) and data[i] in " \t\r\n":
            i += 1
        if i >= len(data):
            return out
        v, i = dec.raw_decode(data, i)
        out.append(v)


GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CREATION = re.compile(r"^2021-01-\d\dT\d\d:\d\d:\d\d$")

# formats.md §5.1, verbatim
SIGNIN_HEADER = ('"Date (UTC)","Request ID","User agent","Correlation ID","User ID","User","Username","User type",'
                 '"Cross tenant access type","Incoming token type","Authentication Protocol","Unique token identifier",'
                 '"Original transfer method","Client credential type","Token Protection - Sign In Session",'
                 '"Token Protection - Sign In Session StatusCode","Application","Application ID ","Resource",'
                 '"Resource ID ","Resource tenant ID","Home tenant ID","Home tenant name","IP address","Location",'
                 '"Status","Sign-in error code","Failure reason","Client app","Device ID","Browser",'
                 '"Operating System","Compliant","Managed","Join Type","Multifactor authentication result",'
                 '"Multifactor authentication auth method","Multifactor authentication auth detail",'
                 '"Authentication requirement","Sign-in identifier","Session ID","IP address (seen by resource)",'
                 '"Through Global Secure Access","Global Secure Access IP address","Autonomous system  number",'
                 '"Flagged for review","Token issuer type","Incoming token type","Token issuer name","Latency",'
                 '"Conditional Access","Managed Identity type","Associated Resource Id","Federated Token Id",'
                 '"Federated Token Issuer"')


def audit_portal_header():
    h = ["Date (UTC)", "CorrelationId", "Service", "Category", "Activity", "Result", "ResultReason", "User Agent",
         "ActorType", "ActorDisplayName", "ActorObjectId", "ActorUserPrincipalName", "IPAddress",
         "ActorHomeTenantId", "ActorHomeTenantName", "ActorServicePrincipalId", "ActorServicePrincipalName"]
    for t in range(1, 4):
        h += ["Target%dType" % t, "Target%dDisplayName" % t, "Target%dObjectId" % t, "Target%dUserPrincipalName" % t]
        for m in range(1, 6):
            h += ["Target%dModifiedProperty%d%s" % (t, m, x) for x in ("Name", "OldValue", "NewValue")]
    for n in range(1, 7):
        h += ["AdditionalDetail%dKey" % n, "AdditionalDetail%dValue" % n]
    return h


def en_us(ts):
    t = dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S")
    return "%d/%d/%d %d:%02d:%02d %s" % (t.month, t.day, t.year, t.hour % 12 or 12, t.minute, t.second,
                                        "AM" if t.hour < 12 else "PM")


def nv(arr, name):
    for x in arr or []:
        if x.get("Name") == name:
            return x.get("Value")
    return None


def mods(rec):
    return {m["Name"]: m for m in rec.get("ModifiedProperties", [])}


def gmods(rec):
    out = {}
    for tr in rec.get("targetResources", []):
        for m in tr.get("modifiedProperties", []):
            out.setdefault(m["displayName"], m)
    return out


# ---------------------------------------------------------------------------
# Tenant files

ual = {}          # Id -> AuditData (union of the UAL files)
ual_sets = {}     # file -> list of Ids

p = os.path.join(TEN, "purview-audit-2021-01.csv")
b = raw(p)
check(b.startswith(b"\xef\xbb\xbf"), "purview: UTF-8 BOM")
check(b.count(b"\r\n") == b.count(b"\n") and b.endswith(b"\r\n"), "purview: CRLF line endings only")
rows = csv_rows(b.decode("utf-8-sig"))
check(rows[0] == ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData",
                  "AssociatedAdminUnits", "AssociatedAdminUnitsNames"], "purview: new-layout header")
ok_rows = True
times = []
for r in rows[1:]:
    a = json.loads(r[5])
    ok_rows &= (len(r) == 8 and r[0] == a["Id"] and r[1] == en_us(a["CreationTime"]) and r[2] == str(a["RecordType"])
                and r[3] == a["Operation"] and r[4] == a["UserId"] and r[6] == "" and r[7] == "")
    times.append(a["CreationTime"])
    ual[a["Id"]] = a
ual_sets["purview"] = [json.loads(r[5])["Id"] for r in rows[1:]]
check(ok_rows, "purview: RecordId = Id, en-US CreationDate = CreationTime, integer RecordType, empty admin units")
check(times == sorted(times, reverse=True) and times != sorted(times), "purview: newest first, not time-sorted ascending")
lines = b.decode("utf-8-sig").split("\r\n")[1:-1]
check(all(re.match(r'^[0-9a-f-]{36},[0-9/: APM]+,\d+,[^",]+,[^",]*,"\{.*\}",,$', ln) for ln in lines),
      "purview: only AuditData is quoted, rows end with ',,'")
check('""' in lines[0] and '\\""' in b.decode("utf-8-sig"), "purview: doubled quotes and JSON-escaped quotes (\\\"\")")

p = os.path.join(TEN, "ual-search-2021-01-13.csv")
b = raw(p)
rows = csv_rows(b.decode("utf-8-sig"))
check(b.startswith(b"\xef\xbb\xbf") and b.count(b"\r\n") == b.count(b"\n"), "ual-search: UTF-8 BOM, CRLF")
check(rows[0] == ["RecordType", "CreationDate", "UserIds", "Operations", "AuditData", "ResultIndex", "ResultCount",
                  "Identity", "IsValid", "ObjectState"], "ual-search: 10-column cmdlet header")
names = {1: "ExchangeAdmin", 6: "SharePointFileOperation", 8: "AzureActiveDirectory", 15: "AzureActiveDirectoryStsLogon",
         50: "ExchangeItemAggregated"}
ok_rows = all(names[json.loads(r[4])["RecordType"]] == r[0] and json.loads(r[4])["Id"] == r[7]
              and r[1] == en_us(json.loads(r[4])["CreationTime"]) and r[6] == str(len(rows) - 1) for r in rows[1:])
check(ok_rows, "ual-search: RecordType names, Identity = Id, en-US CreationDate, ResultCount")
check(all(ln.startswith('"') for ln in b.decode("utf-8-sig").split("\r\n")[:-1]), "ual-search: every cell quoted")
ual_sets["ual-search"] = [json.loads(r[4])["Id"] for r in rows[1:]]
for r in rows[1:]:
    ual[json.loads(r[4])["Id"]] = json.loads(r[4])

p = os.path.join(TEN, "UAL-2021-01.jsonl")
b = raw(p)
recs = jsonl(b.decode("utf-8"))
check(not b.startswith(b"\xef\xbb\xbf") and b"\r" not in b, "UAL jsonl: no BOM, LF")
check(all(CREATION.match(r["CreationTime"]) and GUID.match(r["Id"]) and isinstance(r["RecordType"], int) for r in recs),
      "UAL jsonl: CreationTime without zone, GUID Ids, integer RecordType")
ual_sets["jsonl"] = [r["Id"] for r in recs]
for r in recs:
    ual[r["Id"]] = r

p = os.path.join(TEN, "mgmt-api-content.json")
d = text(p)
arr = json.loads(d)
check(isinstance(arr, list) and d.startswith("[\n  {"), "mgmt-api: one pretty-printed JSON array")
ids = [r["Id"] for r in arr]
check(len(ids) != len(set(ids)), "mgmt-api: the API duplicate is present")
check(all(r["Workload"] == "Exchange" for r in arr), "mgmt-api: Audit.Exchange content only")
ual_sets["mgmt"] = ids
for r in arr:
    ual[r["Id"]] = r

s = {k: set(v) for k, v in ual_sets.items()}
check(s["purview"] & s["ual-search"] and s["purview"] & s["jsonl"] and s["jsonl"] & s["mgmt"],
      "UAL files overlap (purview/ual-search, purview/jsonl, jsonl/mgmt)")
check(s["jsonl"] - s["purview"] and s["purview"] - s["jsonl"], "UAL files each hold records the others lack")

# sign-ins
p = os.path.join(TEN, "InteractiveSignIns_2021-01-10_2021-01-17.csv")
b = raw(p)
first = b.decode("utf-8-sig").split("\r\n")[0]
check(first == SIGNIN_HEADER, "interactive sign-in CSV: exact 55-column 2024-10 header (formats.md §5.1)")
rows = csv_rows(b.decode("utf-8-sig"))
check(all(len(r) == 55 for r in rows), "interactive sign-in CSV: 55 cells in every row")
si_csv = [dict(zip(["%s#%d" % (h, rows[0][:i].count(h)) for i, h in enumerate(rows[0])], r)) for r in rows[1:]]
check(all(re.match(r"^2021-01-\d\dT\d\d:\d\d:\d\dZ$", r["Date (UTC)#0"]) for r in si_csv), "interactive sign-in CSV: ISO Date (UTC)")

apps = json.loads(text(os.path.join(TEN, "ApplicationSignIns_2021-01-10_2021-01-17.json")))
check(isinstance(apps, list) and all(x["signInEventTypes"] == ["servicePrincipal"] for x in apps),
      "ApplicationSignIns: JSON array of service-principal sign-ins")
b = raw(os.path.join(TEN, "signins-graph-page.json"))
page = json.loads(b)
check(list(page) == ["@odata.context", "value", "@odata.nextLink"] and not b.endswith(b"\n"),
      "signins-graph-page: Graph page shape, as received (no final newline)")
check({x["id"] for x in page["value"]} <= {r["Request ID#0"] for r in si_csv},
      "signins-graph-page: same ids as the portal CSV's Request ID (duplicates)")
am = json.loads(text(os.path.join(TEN, "azure-monitor-PT1H.json")))
cats = {r["category"] for r in am["records"]}
check(list(am) == ["records"] and cats == {"SignInLogs", "NonInteractiveUserSignInLogs", "ServicePrincipalSignInLogs",
                                           "AuditLogs"}, "azure-monitor: {records:[...]} mixing the four categories")
check(all(r["time"].endswith("Z") and (r["properties"].get("createdDateTime") or
                                       r["properties"].get("activityDateTime")).endswith("+00:00")
          for r in am["records"]), "azure-monitor: time with Z, properties time with +00:00")
signins = {x["id"]: x for x in apps + page["value"]}
for r in am["records"]:
    if r["category"] != "AuditLogs":
        signins[r["properties"]["id"]] = dict(r["properties"], _category=r["category"])

da = json.loads(text(os.path.join(TEN, "directoryAudits.json")))
check(list(da) == ["@odata.context", "value"], "directoryAudits: Graph page")
audits = {x["id"]: x for x in da["value"]}
check(all(x["id"] in audits for x in (r["properties"] for r in am["records"] if r["category"] == "AuditLogs")),
      "azure-monitor AuditLogs records are directoryAudits duplicates")
rows = csv_rows(text(os.path.join(TEN, "AuditLogs-portal.csv")))
check(rows[0] == audit_portal_header() and len(rows[0]) == 86, "AuditLogs-portal: 86-column header (formats.md §6.1)")
check(all(len(r) == 86 for r in rows) and len(rows) - 1 == len(audits), "AuditLogs-portal: 86 cells per row, one row per audit")

# ---------------------------------------------------------------------------
# The story, read back

U = list(ual.values())


def ops(name):
    return [r for r in U if r["Operation"] == name]


def entra(name):
    return [r for r in audits.values() if r["activityDisplayName"] == name]


IOC = {"13.59.205.66", "54.193.127.66"}
DOC = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]


def ip_ok(v):
    if not v:
        return True
    v = v.strip()
    if v.startswith("["):
        v = v[1:v.index("]")]
    elif v.count(":") == 1:
        v = v.split(":")[0]
    if v in IOC:
        return True
    return any(ipaddress.ip_address(v) in n for n in DOC)


all_ips = [r.get(k) for r in U for k in ("ClientIP", "ClientIPAddress", "ActorIpAddress")]
all_ips += [x["ipAddress"] for x in signins.values()] + [r["IP address#0"] for r in si_csv]
all_ips += [(x["initiatedBy"].get("user") or {}).get("ipAddress") for x in audits.values()]
check(all(ip_ok(v) for v in all_ips), "every IP is a documentation address or one of the two UNC2452 IOC addresses")
check(all(r["CreationTime"].startswith("2021-01-") for r in U) and
      all(x["createdDateTime"].startswith("2021-01-") for x in signins.values()) and
      all(x["activityDateTime"].startswith("2021-01-") for x in audits.values()), "every record is dated January 2021")
check(all(x["upn"].endswith(("contoso.com", "contoso.onmicrosoft.com")) for x in
          [{"upn": r["UserId"]} for r in U if "@" in r["UserId"]]), "users are in contoso.com / contoso.onmicrosoft.com")

sda = ops("Set domain authentication.")
check(any(mods(r)["LiveType"]["NewValue"] == "Federated" for r in sda) and
      any(gmods(x)["LiveType"]["newValue"] == '"Federated"' for x in entra("Set domain authentication")),
      "D01: domain set to Federated (UAL and Entra spellings)")
check(any("http://any.sts/16B45E3B" in json.dumps(r) for r in ops("Set federation settings on domain.")) and
      any("any.sts" in json.dumps(x) for x in entra("Set federation settings on domain")),
      "D02/D03: federation settings with the any.sts issuer")
check(any(nv(r["ExtendedProperties"], "UserAuthenticationMethod") == "16457" for r in ops("UserLoggedIn")),
      "D07: UserLoggedIn with UserAuthenticationMethod 16457")
check(any(x.get("tokenIssuerType") == "ADFederationServices" for x in signins.values()) and
      any(r["Token issuer type#0"] == "ADFederationServices" for r in si_csv), "D06: ADFederationServices sign-in")


def key_ok(v):
    return "KeyType=AsymmetricX509Cert" in v and "KeyUsage=Verify" in v


spc = ops("Add service principal credentials.")
check(any(key_ok(mods(r)["KeyDescription"]["NewValue"]) for r in spc) and
      any(key_ok(gmods(x)["KeyDescription"]["newValue"]) for x in entra("Add service principal credentials")),
      "D09: SP credential added (UAL with period, Entra without), AsymmetricX509Cert/Verify")
dash = "Update application \u2013 Certificates and secrets management "
check(ops(dash) and entra(dash), "D10: 'Update application – Certificates and secrets management ' (en dash, trailing space)")
mailsync = next(r for r in spc if r["UserId"].startswith("adele"))
app_id = next(t["ID"] for t in mailsync["Target"] if t["Type"] == 4)
check("\r\n" in mods(mailsync)["KeyDescription"]["NewValue"] and mods(mailsync)["KeyDescription"]["OldValue"] != "[]",
      "D12: UAL KeyDescription pretty-printed with CRLF, app already had a key")
grants = entra("Add app role assignment to service principal")
vals = {gmods(x)["AppRole.Id"]["newValue"].strip('"') for x in grants}
check({"810c84a8-4a9e-49e6-bf7d-12d183f40d01", "dc890d15-9560-4a4c-9b7f-a736ec74ec40"} <= vals and
      len(ops("Add app role assignment to service principal.")) >= 2, "D20/D21: Mail.Read and full_access_as_app granted")
consents = entra("Consent to application")
check(any("ConsentType: AllPrincipals" in gmods(x)["ConsentAction.Permissions"]["newValue"] and
          "Mail.Read" in gmods(x)["ConsentAction.Permissions"]["newValue"] for x in consents), "D22: tenant-wide admin consent")
cred_t = dt.datetime.strptime(mailsync["CreationTime"], "%Y-%m-%dT%H:%M:%S")
sp_after = [x for x in signins.values() if x.get("appId") == app_id and "servicePrincipal" in (x.get("signInEventTypes") or [])
            and x["ipAddress"] in IOC | {"192.0.2.77"}
            and 0 <= (dt.datetime.strptime(x["createdDateTime"][:19], "%Y-%m-%dT%H:%M:%S") - cred_t).total_seconds() <= 1800]
check(sp_after, "D17: SP sign-in of the app from an attacker address within 30 minutes")
mia = ops("MailItemsAccessed")
graph = [r for r in mia if r.get("AppId") == "00000003-0000-0000-c000-000000000000" and r.get("ClientAppId") == app_id]
gt = sorted(r["CreationTime"] for r in graph)
check(len({r["MailboxOwnerUPN"] for r in graph}) >= 6 and
      (dt.datetime.fromisoformat(gt[-1]) - dt.datetime.fromisoformat(gt[0])).total_seconds() <= 600,
      "D31/D33: app reads >5 mailboxes via Graph within 10 minutes")
ews = [r for r in mia if r.get("ClientInfoString", "").startswith("Client=WebServices;ExchangeWebServices")
       and r.get("AppId") == app_id and r["ClientIPAddress"] == "192.0.2.77"]
check(len({r["MailboxOwnerUPN"] for r in ews}) >= 3, "D32: app reads several mailboxes via EWS from the attacker VPS")
check(sum(nv(r["OperationProperties"], "IsThrottled") == "True" for r in mia) == 1, "D36: exactly one IsThrottled True")
check(any(nv(r["Parameters"], "Role") == "ApplicationImpersonation" for r in ops("New-ManagementRoleAssignment")),
      "D40: New-ManagementRoleAssignment ApplicationImpersonation")
rules = ops("New-InboxRule")
check(any(nv(r["Parameters"], "ForwardTo") and nv(r["Parameters"], "Name").strip() == "" and nv(r["Parameters"], "Name")
          for r in rules), "D45: inbox rule with forwarding and a whitespace-only name")
check(any((nv(r["Parameters"], "ForwardingSmtpAddress") or "").startswith("smtp:") and "contoso" not in
          nv(r["Parameters"], "ForwardingSmtpAddress").split("@")[1].split(".")[0] for r in ops("Set-Mailbox")),
      "D45: Set-Mailbox ForwardingSmtpAddress to an external domain")
ps = {x["appId"] for x in signins.values()} | {r["Application ID #0"] for r in si_csv}
check({"a0c73c16-a7e3-4564-9a95-2bdf47383716", "1b730954-1685-4b74-9bfd-dac224a7b894"} <= ps and
      {"a0c73c16-a7e3-4564-9a95-2bdf47383716", "1b730954-1685-4b74-9bfd-dac224a7b894"} <=
      {r.get("ApplicationId") for r in ops("UserLoggedIn")}, "D46: both PowerShell client AppIds sign in (Entra and UAL)")
fails = [r for r in si_csv if r["Sign-in error code#0"] == "50126"]
by_ip = {}
for r in fails:
    by_ip.setdefault(r["IP address#0"], []).append(r)
spray = max(by_ip.values(), key=len)
st = sorted(r["Date (UTC)#0"] for r in spray)
check(len({r["Username#0"] for r in spray}) >= 8 and
      (dt.datetime.fromisoformat(st[-1][:-1]) - dt.datetime.fromisoformat(st[0][:-1])).total_seconds() <= 600 and
      len([r for r in ops("UserLoginFailed") if r.get("ErrorNumber") == "50126"]) >= 8,
      "spray: >= 8 users fail with 50126 from one address within 10 minutes (sign-ins and UAL)")
check(any("StsRefreshTokensValidFrom" in mods(r) for r in U) and
      any("StsRefreshTokensValidFrom" in gmods(x) for x in audits.values()), "D08: StsRefreshTokensValidFrom reset")
news = [r for r in rules if nv(r["Parameters"], "MoveToFolder") and not nv(r["Parameters"], "ForwardTo")]
check(news, "benign: an inbox rule that only moves mail to a folder")
check(any(gmods(x).get("ConsentContext.IsAdminConsent", {}).get("newValue") == '"False"' and
          "Scope: User.Read," in gmods(x)["ConsentAction.Permissions"]["newValue"] for x in consents),
      "benign: a user consent to User.Read only")
check(any("KeyDescription" not in mods(r) for r in ops("Update application.")), "benign: 'Update application.' without a credential")
check(any((x["initiatedBy"].get("app") or {}).get("displayName") == "Managed Service Identity"
          for x in entra("Add service principal credentials")), "benign: managed-identity certificate rotation")
check(any(r["ClientIP"].startswith("[") and r["ClientIP"].count(":") > 2 for r in mia) and
      any(re.match(r"^\d+\.\d+\.\d+\.\d+:\d+$", r.get("ClientIP", "")) for r in U), "ClientIP with ports and bracketed IPv6")

# ---------------------------------------------------------------------------
# Format samples

expect = ["purview_csv.csv", "purview_csv_classic.csv", "ual_cmdlet_csv.csv", "ual_cmdlet_csv-runspaceid.csv",
          "ual_cmdlet_csv-typeline.csv", "ual_flat_csv.csv", "ual_json.jsonl", "ual_cmdlet_json.json",
          "ual_cmdlet_json.jsonl", "graph_audit_record.json", "officeactivity.json", "signin_portal_csv.csv",
          "signin_graph.jsonl", "signin_azure_monitor.jsonl", "signin_log_analytics.json",
          "signin_log_analytics-noninteractive.json", "entra_audit_portal_csv.csv", "entra_audit_graph.json",
          "entra_audit_azure_monitor.jsonl", "entra_audit_log_analytics.json", "encoding-utf16le-bom.csv",
          "encoding-utf16le-nobom.jsonl", "encoding-utf8-bom.json", "encoding-cp1252.csv", "encoding-semicolon.csv",
          "malformed.jsonl", "graph_audit_csv.csv", "officeactivity_csv.csv", "m365d_cloudappevents.json"]
present = sorted(x for x in os.listdir(FMT) if x != "formats-index.md")
check(present == sorted(expect), "formats: exactly the expected files")


def F(name):
    return os.path.join(FMT, name)


rows = csv_rows(text(F("purview_csv.csv")))
check(rows[0][0] == "RecordId" and len(rows) == 3, "purview_csv: new layout")
rows = csv_rows(text(F("purview_csv_classic.csv")))
check(rows[0] == ["CreationDate", "UserIds", "Operations", "AuditData"] and
      all(re.match(r"^2021-01-\d\dT\d\d:\d\d:\d\d\.0000000Z$", r[0]) for r in rows[1:]), "purview_csv_classic: header and ISO dates")
rows = csv_rows(text(F("ual_cmdlet_csv-runspaceid.csv")))
check(rows[0][:2] == ["RunspaceId", "RecordType"], "ual_cmdlet_csv: leading RunspaceId variant")
t = text(F("ual_cmdlet_csv-typeline.csv"))
check(t.startswith("#TYPE ") and csv_rows(t.split("\r\n", 1)[1])[0][3:5] == ["RecordType", "CreationDate"],
      "ual_cmdlet_csv: #TYPE first-line variant")
b = raw(F("ual_flat_csv.csv"))
rows = csv_rows(b.decode("ascii"))
check("Update application ? Certificates" in b.decode("ascii") and "CreationTime" in rows[0] and
      rows[1][rows[0].index("ModifiedProperties")].startswith("[{"), "ual_flat_csv: ASCII, '?' dash, nested JSON cells")
b = raw(F("ual_json.jsonl"))
check(not b.endswith(b"\n") and all("CreationTime" in r for r in jsonl(b.decode())), "ual_json: JSONL, last line unterminated")
vals = concatenated(text(F("ual_cmdlet_json.json")))
check(len(vals) == 2 and isinstance(vals[0], list) and isinstance(vals[1], dict) and
      isinstance(vals[0][0]["AuditData"], dict), "ual_cmdlet_json: concatenated pretty array + bare object, AuditData object")
check(all(isinstance(r["AuditData"], str) for r in jsonl(text(F("ual_cmdlet_json.jsonl")))),
      "ual_cmdlet_json: JSONL with AuditData as a string")
g = json.loads(text(F("graph_audit_record.json")))
check(g["value"][0]["auditLogRecordType"][0].islower() and isinstance(g["value"][0]["auditData"], dict),
      "graph_audit_record: camelCase enum, auditData object")
oa = json.loads(text(F("officeactivity.json")))
check(any(r["RecordType"] == "50" for r in oa) and all(isinstance(r.get("Parameters", ""), str) for r in oa) and
      all(isinstance(r.get("Folders", ""), str) for r in oa), "officeactivity: RecordType \"50\", nested values as JSON text")
b = raw(F("signin_portal_csv.csv"))
rows = csv_rows(b.decode("utf-8"))
check(len(rows[0]) == 57 and rows[0][18] == "App owner tenant ID" and "Resource owner tenant ID" in rows[0]
      and all(len(r) == 57 for r in rows), "signin_portal_csv: 57-column 2025 variant")
check(all("createdDateTime" in r for r in jsonl(text(F("signin_graph.jsonl")))), "signin_graph: JSONL")
check(all("properties" in r and "category" in r for r in jsonl(text(F("signin_azure_monitor.jsonl")))),
      "signin_azure_monitor: JSONL envelopes")
rows = csv_rows(text(F("graph_audit_csv.csv")))
check(rows[0][:3] == ["id", "createdDateTime", "auditLogRecordType"] and json.loads(rows[1][-1])["Id"] == rows[1][0],
      "graph_audit_csv: wrapper columns, auditData JSON")
rows = csv_rows(text(F("officeactivity_csv.csv")))
check("OfficeWorkload" in rows[0] and rows[1][rows[0].index("OriginatingServer")].endswith("\r\n") and
      all(len(r) == len(rows[0]) for r in rows), "officeactivity_csv: CR LF inside a quoted cell")
m = json.loads(text(F("m365d_cloudappevents.json")))
check(all(r["RawEventData"]["CreationTime"].endswith(".0000000Z") for r in m) and
      m[0]["RawEventData"]["OperationProperties"][0].startswith("@{"), "m365d_cloudappevents: RawEventData quirks")
la = json.loads(text(F("signin_log_analytics.json")))
la2 = json.loads(text(F("signin_log_analytics-noninteractive.json")))
check(isinstance(la[0]["LocationDetails"], dict) and isinstance(la2[0]["LocationDetails"], str) and
      la2[0]["Type"] == "AADNonInteractiveUserSignInLogs", "signin_log_analytics: objects (SigninLogs), JSON text (non-interactive)")
rows = csv_rows(text(F("entra_audit_portal_csv.csv")))
check(rows[0] == audit_portal_header(), "entra_audit_portal_csv: 86 columns")
check(isinstance(json.loads(text(F("entra_audit_graph.json"))), list), "entra_audit_graph: JSON array")
check(all(r["category"] == "AuditLogs" for r in jsonl(text(F("entra_audit_azure_monitor.jsonl")))),
      "entra_audit_azure_monitor: JSONL envelopes")
b = raw(F("entra_audit_log_analytics.json"))
check(b.count(b"\r\n") == 2 and all(isinstance(r["TargetResources"], str) for r in jsonl(b.decode())),
      "entra_audit_log_analytics: CRLF NDJSON, TargetResources as JSON text")

b = raw(F("encoding-utf16le-bom.csv"))
check(b.startswith(b"\xff\xfe") and b[2:].decode("utf-16-le").startswith('"RecordType"'), "encoding: UTF-16LE with BOM")
b = raw(F("encoding-utf16le-nobom.jsonl"))
check(b[:2] == b"{\x00" and all(b[i] == 0 for i in range(1, 200, 2)) and
      all("Id" in r for r in jsonl(b.decode("utf-16-le"))), "encoding: UTF-16LE without BOM")
b = raw(F("encoding-utf8-bom.json"))
check(b.startswith(b"\xef\xbb\xbf") and isinstance(json.loads(b[3:]), list), "encoding: UTF-8 BOM JSON")
b = raw(F("encoding-cp1252.csv"))
try:
    b.decode("utf-8")
    valid_utf8 = True
except UnicodeDecodeError:
    valid_utf8 = False
check(not valid_utf8 and b"\xe9" in b and b"\xfc" in b and b"\x96" in b and
      "Budgetübersicht – Entwurf" in b.decode("cp1252"), "encoding: Windows-1252 with E9, FC and 96")
rows = csv_rows(text(F("encoding-semicolon.csv")), delimiter=";")
check(len(rows[0]) == 10 and re.match(r"^\d\d\.\d\d\.2021 \d\d:\d\d:\d\d$", rows[1][1]), "encoding: ';' delimiter, de-DE dates")
good = bad = 0
for ln in text(F("malformed.jsonl")).splitlines():
    try:
        v = json.loads(ln)
        if isinstance(v, dict) and "CreationTime" in v and "Operation" in v:
            good += 1
        else:
            bad += 1
    except ValueError:
        bad += 1
check(good == 3 and bad == 4, "malformed: 3 good records, 4 bad ones")

# ---------------------------------------------------------------------------
total = 0
for base, _dirs, files in os.walk(ROOT):
    if os.sep + "rules" in base[len(ROOT):]:
        continue
    total += sum(os.path.getsize(os.path.join(base, f)) for f in files if not f.endswith(".pyc"))
print("# samples/ size (without rules/): %d bytes" % total)
check(total < 512 * 1024, "samples/ stays small (< 512 KB: catches accidental bloat such as a pasted export)")

failed = results.count(False)
print("# %d checks, %d failed" % (len(results), failed))
sys.exit(1 if failed else 0)
