#!/usr/bin/env python3
"""gen-samples.py: write audithound's sample exports (samples/tenant, samples/formats).

Every byte of the samples comes from this file: the fictional tenant
"contoso", its users and apps, one intrusion story (SolarWinds/UNC2452 cloud
phase, Mimecast-style EWS abuse, BEC touches) among benign background
activity, and renderers for each export shape described in
docs/formats.md. Nothing is random: identifiers are derived from labels with
SHA-256, so the data is reviewable as code and the output reproducible.

    python3 samples/tools/gen-samples.py            # (re)write samples/
    python3 samples/tools/gen-samples.py --out DIR  # write elsewhere
    python3 samples/tools/gen-samples.py --check    # compare with samples/ on disk

Python 3 standard library only.
"""

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import os
import sys

# --------------------------------------------------------------------------
# Deterministic identifiers


def _h(label):
    return hashlib.sha256(("audithound-samples/" + label).encode()).hexdigest()


def guid(label):
    """A version-4-looking GUID derived from a label."""
    x = _h("guid/" + label)
    s = x[:12] + "4" + x[13:16] + "89ab"[int(x[16], 16) % 4] + x[17:32]
    return "%s-%s-%s-%s-%s" % (s[:8], s[8:12], s[12:16], s[16:20], s[20:32])


def hexup(label, n):
    return _h("hex/" + label)[:n].upper()


def num(label, lo, hi):
    return lo + int(_h("num/" + label)[:12], 16) % (hi - lo + 1)


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def b64ish(label, n):
    out = []
    block = 0
    while len(out) < n:
        x = _h("b64/%d/%s" % (block, label))
        out += [_B64[int(x[i:i + 2], 16) % 64] for i in range(0, 64, 2)]
        block += 1
    return "".join(out[:n])


# --------------------------------------------------------------------------
# Time formats (all UTC)


def T(day, h, m, s=0):
    return dt.datetime(2021, 1, day, h, m, s)


def frac7(label):
    return num("frac/" + label, 0, 9999999)


def ct(t):
    """AuditData CreationTime: no zone designator, no fraction."""
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def iso7(t, label):
    return "%s.%07dZ" % (ct(t), frac7(label))


def iso3(t, label):
    return "%s.%03dZ" % (ct(t), frac7(label) // 10000)


def en_us(t):
    """PowerShell / Purview en-US rendering: 1/13/2021 3:05:11 AM."""
    h12 = t.hour % 12 or 12
    return "%d/%d/%d %d:%02d:%02d %s" % (t.month, t.day, t.year, h12, t.minute, t.second,
                                        "AM" if t.hour < 12 else "PM")


def de_de(t):
    return t.strftime("%d.%m.%Y %H:%M:%S")


def classic_date(t):
    return ct(t) + ".0000000Z"


# --------------------------------------------------------------------------
# The tenant

TENANT = guid("tenant/contoso")
ORG = "contoso.onmicrosoft.com"
TENANT_RESOURCE = "/tenants/%s/providers/Microsoft.aadiam" % TENANT
BACKDOOR_DOMAIN = "contoso.net"
ANY_STS = "http://any.sts/16B45E3B"

# name -> (display name, UPN, usual IP, (OS, browser))
_PEOPLE = [
    ("adele.vance", "Adele Vance", "203.0.113.21", ("Windows 10", "Edge 87.0.664")),
    ("alex.wilber", "Alex Wilber", "198.51.100.23", ("Windows 10", "Chrome 87.0.4280")),
    ("megan.bowen", "Megan Bowen", "203.0.113.34", ("MacOs", "Safari 14.0.2")),
    ("pradeep.gupta", "Pradeep Gupta", "198.51.100.23", ("Windows 10", "Edge 87.0.664")),
    ("lee.gu", "Lee Gu", "198.51.100.24", ("Windows 10", "Edge 87.0.664")),
    ("isaiah.langer", "Isaiah Langer", "2001:db8:4a1:200::1c", ("Ios", "Mobile Safari")),
    ("joni.sherman", "Joni Sherman", "198.51.100.23", ("Windows 10", "Edge 87.0.664")),
    ("diego.siciliani", "Diego Siciliani", "203.0.113.58", ("Windows 10", "Firefox 84.0")),
    ("johanna.lorenz", "Johanna Lorenz", "198.51.100.24", ("Windows 10", "Edge 87.0.664")),
    ("lidia.holloway", "Lidia Holloway", "203.0.113.71", ("Windows 10", "Chrome 87.0.4280")),
    ("lynne.robbins", "Lynne Robbins", "198.51.100.23", ("Windows 10", "Edge 87.0.664")),
    ("miriam.graham", "Miriam Graham", "203.0.113.85", ("MacOs", "Chrome 87.0.4280")),
    ("nestor.wilke", "Nestor Wilke", "198.51.100.24", ("Windows 10", "Edge 87.0.664")),
    ("patti.fernandez", "Patti Fernandez", "203.0.113.92", ("Windows 10", "Edge 87.0.664")),
    ("grady.archie", "Grady Archie", "198.51.100.23", ("Windows 10", "Chrome 87.0.4280")),
    ("irvin.sayers", "Irvin Sayers", "203.0.113.97", ("Windows 10", "Edge 87.0.664")),
]

USERS = {}
for _key, _name, _ip, _dev in _PEOPLE:
    USERS[_key] = {
        "upn": _key + "@contoso.com",
        "name": _name,
        "ip": _ip,
        "os": _dev[0],
        "browser": _dev[1],
    }
USERS["it-admin"] = {"upn": "it-admin@contoso.onmicrosoft.com", "name": "IT Admin (cloud)",
                     "ip": "198.51.100.24", "os": "Windows 10", "browser": "Edge 87.0.664"}
for _key, _u in USERS.items():
    _u["key"] = _key
    _u["oid"] = guid("user/" + _key)
    _u["puid"] = "1003" + hexup("puid/" + _key, 12)
    _u["sid"] = "S-1-5-21-2843718391-1163442081-3302671410-%d" % num("rid/" + _key, 20000000, 29999999)
    _u["mbx"] = guid("mailbox/" + _key)
    _u["alias"] = _key.split("@")[0]

UA_EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/87.0.4280.141 Safari/537.36 Edg/87.0.664.75")
UA_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/87.0.4280.141 Safari/537.36")
UA_SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/14.0.2 Safari/605.1.15")
UA_IOS = ("Mozilla/5.0 (iPhone; CPU iPhone OS 14_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/14.0 Mobile/15E148 Safari/604.1")
UA_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:84.0) Gecko/20100101 Firefox/84.0"
UA_SPRAY = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/86.0.4240.198 Safari/537.36")
UA_PS_AAD = "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.17763.1490"
UA_PS_EXO = "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.610"
UA_GRAPH_CLIENT = "Microsoft Azure Graph Client Library 1.0"
UA_MSI = "Microsoft Azure Graph Client Library 2.1.17-internal"


def ua_for(u):
    return {"Edge": UA_EDGE, "Chrome": UA_CHROME, "Safari": UA_SAFARI, "Mobile": UA_IOS,
            "Firefox": UA_FIREFOX}[u["browser"].split(" ")[0]]


# Applications: key -> (display name, appId, service principal object id, application object id)
APPS = {
    "graph": ("Microsoft Graph", "00000003-0000-0000-c000-000000000000", guid("sp/graph"), None),
    "exo": ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000", guid("sp/exo"), None),
    "spo": ("Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000", guid("sp/spo"), None),
    "aadgraph": ("Windows Azure Active Directory", "00000002-0000-0000-c000-000000000000", guid("sp/aad"), None),
    "portal": ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", guid("sp/portal"), None),
    "officehome": ("OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca", guid("sp/officehome"), None),
    "office": ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c", guid("sp/office"), None),
    "owa": ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000", guid("sp/exo"), None),
    "aadps": ("Azure Active Directory PowerShell", "1b730954-1685-4b74-9bfd-dac224a7b894", guid("sp/aadps"), None),
    "exops": ("Microsoft Exchange Online Remote PowerShell", "a0c73c16-a7e3-4564-9a95-2bdf47383716",
              guid("sp/exops"), None),
    "mailsync": ("Contoso MailSync", guid("app/mailsync"), guid("sp/mailsync"), guid("appobj/mailsync")),
    "intranet": ("Contoso Intranet", guid("app/intranet"), guid("sp/intranet"), guid("appobj/intranet")),
    "expenses": ("Contoso Expenses", guid("app/expenses"), guid("sp/expenses"), guid("appobj/expenses")),
    "func-billing": ("contoso-func-billing", guid("app/func-billing"), guid("sp/func-billing"), None),
}


def app(key):
    name, appid, spid, objid = APPS[key]
    return {"key": key, "name": name, "appId": appid, "spId": spid, "objId": objid}


MAIL_READ = "810c84a8-4a9e-49e6-bf7d-12d183f40d01"
FULL_ACCESS_AS_APP = "dc890d15-9560-4a4c-9b7f-a736ec74ec40"
MSI_SP = guid("sp/managed-service-identity")

# The Contoso MailSync archiving connector has had one certificate since 2020;
# the attacker adds a second one with the same display name to blend in.
KEY_MAILSYNC_OLD = guid("key/mailsync/2020")
KEY_MAILSYNC_NEW = guid("key/mailsync/attacker")
THUMB_MAILSYNC_OLD = hexup("thumb/mailsync/2020", 40)
THUMB_MAILSYNC_NEW = hexup("thumb/mailsync/attacker", 40)
KEY_DESC_OLD = "[KeyIdentifier=%s,KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=MailSync]" % KEY_MAILSYNC_OLD
KEY_DESC_NEW = "[KeyIdentifier=%s,KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=MailSync]" % KEY_MAILSYNC_NEW
KEY_MSI_OLD = "[KeyIdentifier=%s,KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=%s]" % (
    guid("key/msi/2020"), guid("app/func-billing"))
KEY_MSI_NEW = "[KeyIdentifier=%s,KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=%s]" % (
    guid("key/msi/2021"), guid("app/func-billing"))

# IP -> (city, state, country, latitude, longitude, ASN)
GEO = {
    "198.51.100.23": ("Redmond", "Washington", "US", 47.674, -122.121, 64496),
    "198.51.100.24": ("Redmond", "Washington", "US", 47.674, -122.121, 64496),
    "203.0.113.21": ("Kirkland", "Washington", "US", 47.681, -122.208, 64497),
    "203.0.113.34": ("Seattle", "Washington", "US", 47.606, -122.332, 64497),
    "203.0.113.40": ("Chicago", "Illinois", "US", 41.878, -87.629, 64505),
    "203.0.113.58": ("Bellevue", "Washington", "US", 47.610, -122.200, 64498),
    "203.0.113.71": ("Tacoma", "Washington", "US", 47.252, -122.444, 64498),
    "203.0.113.85": ("Everett", "Washington", "US", 47.979, -122.202, 64499),
    "203.0.113.92": ("Portland", "Oregon", "US", 45.515, -122.679, 64499),
    "203.0.113.97": ("Redmond", "Washington", "US", 47.674, -122.121, 64497),
    "2001:db8:4a1:200::1c": ("Seattle", "Washington", "US", 47.606, -122.332, 64510),
    # attacker infrastructure: two UNC2452 addresses (Volexity / FireEye lists) and a documentation VPS
    "13.59.205.66": ("Columbus", "Ohio", "US", 39.962, -83.000, 16509),
    "54.193.127.66": ("San Jose", "California", "US", 37.339, -121.894, 16509),
    "192.0.2.77": ("Amsterdam", "Noord-Holland", "NL", 52.374, 4.890, 64500),
}

ATTACKER_SPRAY = "13.59.205.66"
ATTACKER_CLOUD = "54.193.127.66"
ATTACKER_VPS = "192.0.2.77"
ARCHIVER_IP = "203.0.113.40"

SERVERS = ["DM6PR11MB2746", "BN6PR11MB4049", "SN6PR11MB3086", "CY4PR11MB1622"]


def server(label):
    return "%s (15.20.%d.%03d)" % (SERVERS[num("srv/" + label, 0, 3)], 3763, num("srvv/" + label, 1, 30))


# --------------------------------------------------------------------------
# Story model: three record families, each in one canonical form, rendered
# into every export shape later.
#
#   UAL      AuditData dicts (key order as the service writes it)
#   SIGNIN   Graph beta signIn dicts (kind: interactive / noninteractive / sp)
#   AUDIT    Graph directoryAudit dicts (+ the UAL twin built from the same spec)
#
# Every item carries a step tag (README timeline) and a time.


class Item:
    def __init__(self, family, t, data, step, kind=None):
        self.family = family
        self.t = t
        self.data = data
        self.step = step
        self.kind = kind


UAL = []
SIGNINS = []
AUDITS = []
STEPS = {}  # step id -> dict(title, expect, benign)


def step(sid, title, expect="", benign=False):
    STEPS[sid] = {"id": sid, "title": title, "expect": expect, "benign": benign}
    return sid


# ---- UAL builders ---------------------------------------------------------


def _nv(name, value):
    return {"Name": name, "Value": value}


def ual_sts(t, label, sid, u, ok, ip, client, resource, ua, auth_method="1", request_type="OAuth2:Authorize",
            error="0", logon_error=None, keep=None, session=True, session_label=None):
    """RecordType 15: AzureActiveDirectoryStsLogon (UserLoggedIn / UserLoginFailed)."""
    ext = [_nv("ResultStatusDetail", "Success" if ok else "Redirect"),
           _nv("UserAgent", ua),
           _nv("UserAuthenticationMethod", auth_method),
           _nv("RequestType", request_type)]
    if keep is not None:
        ext.append(_nv("KeepMeSignedIn", keep))
    d = {
        "CreationTime": ct(t), "Id": guid("ual/" + label), "Operation": "UserLoggedIn" if ok else "UserLoginFailed",
        "OrganizationId": TENANT, "RecordType": 15, "ResultStatus": "Success" if ok else "Failed",
        "UserKey": u["puid"] + "@" + ORG, "UserType": 0, "Version": 1, "Workload": "AzureActiveDirectory",
        "ClientIP": ip, "ObjectId": resource["appId"], "UserId": u["upn"], "AzureActiveDirectoryEventType": 1,
        "ExtendedProperties": ext, "ModifiedProperties": [],
        "Actor": [{"ID": u["oid"], "Type": 0}, {"ID": u["upn"], "Type": 5}],
        "ActorContextId": TENANT, "ActorIpAddress": ip, "InterSystemsId": guid("ual-inter/" + label),
        "IntraSystemId": guid("ual-intra/" + label), "SupportTicketId": "",
        "Target": [{"ID": resource["appId"], "Type": 0}], "TargetContextId": TENANT,
        "ApplicationId": client["appId"],
    }
    dev = [_nv("OS", u["os"].replace("MacOs", "MacOS")), _nv("BrowserType", u["browser"].split(" ")[0])]
    if ok and session:
        dev.append(_nv("SessionId", guid("session/" + (session_label or label))))
    d["DeviceProperties"] = dev
    d["ErrorNumber"] = error
    if logon_error:
        d["LogonError"] = logon_error
    UAL.append(Item("ual", t, d, sid))
    return d


def ual_modval(v):
    """A property value as the UAL writes it: plain strings, JSON arrays pretty-printed with CRLF."""
    if v is None:
        return ""
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[\r\n" + ",\r\n".join("  " + json.dumps(x, ensure_ascii=False) for x in v) + "\r\n]"
    return v


def graph_modval(v):
    """A property value as Entra writes it: JSON text in a string, or null."""
    if v is None:
        return None
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _actor_user(u):
    return [{"ID": u["upn"], "Type": 5}, {"ID": u["puid"], "Type": 3}, {"ID": "User_" + u["oid"], "Type": 2},
            {"ID": u["oid"], "Type": 2}, {"ID": "User", "Type": 2}]


def _ual_target(tr):
    kind = tr["type"]
    if kind == "ServicePrincipal":
        out = [{"ID": "ServicePrincipal_" + tr["id"], "Type": 2}, {"ID": tr["id"], "Type": 2},
               {"ID": "ServicePrincipal", "Type": 2}, {"ID": tr["displayName"], "Type": 1}]
        if tr.get("appId"):
            out += [{"ID": tr["appId"], "Type": 2}, {"ID": tr["appId"], "Type": 4}]
        return out
    if kind == "Application":
        return [{"ID": "Application_" + tr["id"], "Type": 2}, {"ID": tr["id"], "Type": 2},
                {"ID": "Application", "Type": 2}, {"ID": tr["displayName"], "Type": 1},
                {"ID": tr["appId"], "Type": 2}, {"ID": tr["appId"], "Type": 4}]
    if kind == "User":
        u = tr["user"]
        return [{"ID": "User_" + u["oid"], "Type": 2}, {"ID": u["oid"], "Type": 2}, {"ID": "User", "Type": 2},
                {"ID": u["upn"], "Type": 5}, {"ID": u["puid"], "Type": 3}]
    return [{"ID": tr["displayName"], "Type": 1}]


def directory_change(t, label, sid, activity, ual_op, category, op_type, initiator, ip, ua, targets,
                     ual_ext_category, app_id_detail=None, ual=True, entra=True, ual_delay=0):
    """One directory change, recorded twice: Entra directoryAudit and UAL RecordType 8.

    initiator: a USERS entry, or {"msi": True} for Managed Service Identity.
    targets: dicts with type, id, displayName, (appId, user), props [(name, old, new)].
    """
    corr = guid("corr/" + label)
    if entra:
        details = [{"key": "User-Agent", "value": ua}]
        if app_id_detail:
            details.append({"key": "AppId", "value": app_id_detail})
        if "msi" in initiator:
            by = {"user": None, "app": {"appId": None, "displayName": "Managed Service Identity",
                                        "servicePrincipalId": MSI_SP, "servicePrincipalName": None}}
        else:
            by = {"user": {"id": initiator["oid"], "displayName": None, "userPrincipalName": initiator["upn"],
                           "ipAddress": ip, "roles": []}, "app": None}
        tres = []
        for tr in targets:
            tres.append({
                "id": tr["id"], "displayName": tr["displayName"], "type": tr["type"],
                "userPrincipalName": tr["user"]["upn"] if tr.get("user") else None,
                "groupType": None,
                "modifiedProperties": [{"displayName": n, "oldValue": graph_modval(o), "newValue": graph_modval(v)}
                                       for n, o, v in tr.get("props", [])],
                "administrativeUnits": [],
            })
        rec = {
            "id": "Directory_%s_%s_%d" % (corr, hexup("dirsuffix/" + label, 5), num("dirnum/" + label, 10000000, 999999999)),
            "category": category, "correlationId": corr, "result": "success", "resultReason": "",
            "activityDisplayName": activity, "activityDateTime": iso7(t, "audit/" + label),
            "loggedByService": "Core Directory", "operationType": op_type, "initiatedBy": by,
            "targetResources": tres, "additionalDetails": details,
        }
        AUDITS.append(Item("audit", t, rec, sid))
    if ual:
        ut = t + dt.timedelta(seconds=ual_delay)
        if "msi" in initiator:
            actor = [{"ID": "Managed Service Identity", "Type": 1}, {"ID": "ServicePrincipal_" + MSI_SP, "Type": 2},
                     {"ID": MSI_SP, "Type": 2}, {"ID": "ServicePrincipal", "Type": 2}]
            user_id, user_key, user_type = "ServicePrincipal_" + MSI_SP, "Not Available", 4
        else:
            actor = _actor_user(initiator)
            user_id, user_key, user_type = initiator["upn"], initiator["puid"] + "@" + ORG, 0
        add = {"User-Agent": ua}
        if app_id_detail:
            add["AppId"] = app_id_detail
        mods = []
        tgt = []
        for tr in targets:
            mods += [{"Name": n, "NewValue": ual_modval(v), "OldValue": ual_modval(o)}
                     for n, o, v in tr.get("props", [])]
            tgt += _ual_target(tr)
        d = {
            "CreationTime": ct(ut), "Id": guid("ual/" + label), "Operation": ual_op, "OrganizationId": TENANT,
            "RecordType": 8, "ResultStatus": "Success", "UserKey": user_key, "UserType": user_type, "Version": 1,
            "Workload": "AzureActiveDirectory", "ObjectId": targets[0]["displayName"] if targets[0]["type"] in ("Other",) else "Not Available",
            "UserId": user_id, "AzureActiveDirectoryEventType": 1,
            "ExtendedProperties": [_nv("additionalDetails", json.dumps(add, separators=(",", ":"))),
                                   _nv("extendedAuditEventCategory", ual_ext_category)],
            "ModifiedProperties": mods, "Actor": actor, "ActorContextId": TENANT,
        }
        if ip:
            d["ActorIpAddress"] = ip
        d.update({"InterSystemsId": corr, "IntraSystemId": guid("ual-intra/" + label), "SupportTicketId": "",
                  "Target": tgt, "TargetContextId": TENANT})
        UAL.append(Item("ual", ut, d, sid))


def exo_admin(t, label, sid, u, cmdlet, params, object_id, client_ip, app_id=""):
    """RecordType 1: ExchangeAdmin (cmdlet name as Operation, Parameters Name/Value)."""
    d = {
        "CreationTime": ct(t), "Id": guid("ual/" + label), "Operation": cmdlet, "OrganizationId": TENANT,
        "RecordType": 1, "ResultStatus": "True", "UserKey": u["puid"], "UserType": 2, "Version": 1,
        "Workload": "Exchange", "ClientIP": client_ip, "ObjectId": object_id, "UserId": u["upn"],
        "AppId": app_id, "ClientAppId": "", "ExternalAccess": False, "OrganizationName": ORG,
        "OriginatingServer": server(label), "Parameters": [_nv(n, v) for n, v in params],
        "SessionId": guid("exo-session/" + sid),
    }
    UAL.append(Item("ual", t, d, sid))
    return d


def message_id(label):
    return "<%s@%s.namprd11.prod.outlook.com>" % (hexup("imid/" + label, 32), SERVERS[num("imsrv/" + label, 0, 3)])


def mail_items_accessed(t, label, sid, owner, client_ip, client_info, app_id=None, client_app_id=None,
                        items=3, throttled=False, access="Bind", folder="\\Inbox", logon_type=0):
    """RecordType 50: ExchangeItemAggregated MailItemsAccessed."""
    d = {
        "CreationTime": ct(t), "Id": guid("ual/" + label), "Operation": "MailItemsAccessed",
        "OrganizationId": TENANT, "RecordType": 50, "ResultStatus": "Succeeded", "UserKey": owner["puid"],
        "UserType": 0, "Version": 1, "Workload": "Exchange", "ClientIP": client_ip, "UserId": owner["upn"],
    }
    if app_id:
        d["AppId"] = app_id
    if client_app_id:
        d["ClientAppId"] = client_app_id
    if client_ip.startswith("["):
        bare_ip = client_ip[1:client_ip.index("]")]
    elif client_ip.count(":") == 1:
        bare_ip = client_ip.split(":")[0]
    else:
        bare_ip = client_ip
    d.update({
        "ClientIPAddress": bare_ip, "ClientInfoString": client_info, "ExternalAccess": False,
        "InternalLogonType": 0, "LogonType": logon_type, "LogonUserSid": owner["sid"],
        "MailboxGuid": owner["mbx"], "MailboxOwnerSid": owner["sid"], "MailboxOwnerUPN": owner["upn"],
        "OperationProperties": [_nv("MailAccessType", access), _nv("IsThrottled", "True" if throttled else "False")],
        "OrganizationName": ORG, "OriginatingServer": server(label),
    })
    if not throttled:
        d["Folders"] = [{
            "FolderItems": [{"InternetMessageId": message_id(label + "/%d" % i),
                             "SizeInBytes": num("size/%s/%d" % (label, i), 9000, 180000)} for i in range(items)],
            "Id": "LgAAAAB" + b64ish("folder/" + owner["key"] + folder, 60) + "AAAB",
            "Path": folder,
        }]
        d["OperationCount"] = items
    else:
        d["OperationCount"] = 1000
    UAL.append(Item("ual", t, d, sid))
    return d


def file_accessed(t, label, sid, u, ip, site, path, ext):
    """RecordType 6: SharePointFileOperation FileAccessed."""
    site_url = "https://contoso.sharepoint.com/sites/" + site
    name = path.rsplit("/", 1)[-1]
    d = {
        "CreationTime": ct(t), "Id": guid("ual/" + label), "Operation": "FileAccessed", "OrganizationId": TENANT,
        "RecordType": 6, "UserKey": "i:0h.f|membership|%s@live.com" % u["puid"].lower(), "UserType": 0,
        "Version": 1, "Workload": "SharePoint", "ClientIP": ip, "ObjectId": site_url + "/" + path,
        "UserId": u["upn"], "CorrelationId": guid("spcorr/" + label), "EventSource": "SharePoint",
        "ItemType": "File", "ListId": guid("list/" + site), "ListItemUniqueId": guid("item/" + path),
        "Site": guid("site/" + site), "UserAgent": ua_for(u), "WebId": guid("web/" + site),
        "SourceFileExtension": ext, "SiteUrl": site_url + "/", "SourceFileName": name,
        "SourceRelativeUrl": path.rsplit("/", 1)[0],
    }
    UAL.append(Item("ual", t, d, sid))
    return d


# ---- sign-in builder (Graph beta signIn) ----------------------------------


def location(ip):
    city, state, cc, lat, lon, _asn = GEO[ip]
    return {"city": city, "state": state, "countryOrRegion": cc,
            "geoCoordinates": {"altitude": None, "latitude": lat, "longitude": lon}}


def signin(t, label, sid, kind, ip, client, resource, u=None, error=0, failure=None,
           ua="", client_app="Browser", issuer_type="AzureAD", issuer_name="", mfa=None, protocol="none",
           incoming="none", key_id=None, thumb=None, details=None, session_label=None):
    f = "signin/" + label
    if kind == "sp":
        d = {
            "id": guid(f), "createdDateTime": iso7(t, f), "userDisplayName": "", "userPrincipalName": "",
            "userId": "", "appId": client["appId"], "appDisplayName": client["name"], "ipAddress": ip,
            "clientAppUsed": "", "correlationId": guid("corr/" + f), "conditionalAccessStatus": "notApplied",
            "isInteractive": False, "riskLevelDuringSignIn": "none", "riskState": "none",
            "resourceDisplayName": resource["name"], "resourceId": resource["appId"],
            "resourceTenantId": TENANT, "homeTenantId": TENANT,
            "status": {"errorCode": error, "failureReason": failure, "additionalDetails": None},
            "location": location(ip), "appliedConditionalAccessPolicies": [],
            "authenticationProtocol": "none", "clientCredentialType": "certificate", "incomingTokenType": "none",
            "servicePrincipalId": client["spId"], "servicePrincipalName": client["name"],
            "servicePrincipalCredentialKeyId": key_id, "servicePrincipalCredentialThumbprint": thumb,
            "signInEventTypes": ["servicePrincipal"], "tokenIssuerType": "AzureAD",
            "uniqueTokenIdentifier": b64ish("uti/" + f, 22), "autonomousSystemNumber": GEO[ip][5],
        }
        SIGNINS.append(Item("signin", t, d, sid, kind))
        return d
    interactive = kind == "interactive"
    if mfa:
        req = "multiFactorAuthentication"
    else:
        req = "singleFactorAuthentication"
    auth = [{"authenticationStepDateTime": ct(t) + "Z",
             "authenticationMethod": (mfa or {}).get("method", "Password" if interactive else "Previously satisfied"),
             "authenticationMethodDetail": (mfa or {}).get("detail", "Password in the cloud" if interactive else ""),
             "succeeded": error == 0,
             "authenticationStepResultDetail": (mfa or {}).get("result", "Correct password" if error == 0 else "Invalid username or password or Invalid on-premise username or password."),
             "authenticationStepRequirement": "Primary authentication"}]
    if details:
        auth = details
    d = {
        "id": guid(f), "createdDateTime": iso7(t, f), "userDisplayName": u["name"],
        "userPrincipalName": u["upn"].lower(), "userId": u["oid"], "appId": client["appId"],
        "appDisplayName": client["name"], "ipAddress": ip, "clientAppUsed": client_app,
        "correlationId": guid("corr/" + f),
        "conditionalAccessStatus": "notApplied" if error or not mfa else "success",
        "isInteractive": interactive, "riskLevelDuringSignIn": "none", "riskState": "none",
        "resourceDisplayName": resource["name"], "resourceId": resource["appId"], "resourceTenantId": TENANT,
        "homeTenantId": TENANT,
        "status": {"errorCode": error, "failureReason": failure or ("Other." if error == 0 else None),
                   "additionalDetails": (mfa or {}).get("status_detail")},
        "deviceDetail": {"deviceId": "", "displayName": None, "operatingSystem": u["os"],
                         "browser": u["browser"] if client_app == "Browser" else "", "isCompliant": None,
                         "isManaged": None, "trustType": None},
        "location": location(ip), "appliedConditionalAccessPolicies": [],
        "authenticationDetails": auth, "authenticationRequirement": req, "authenticationProtocol": protocol,
        "autonomousSystemNumber": GEO[ip][5], "crossTenantAccessType": "none", "flaggedForReview": False,
        "incomingTokenType": incoming, "signInEventTypes": ["interactiveUser" if interactive else "nonInteractiveUser"],
        "signInIdentifier": u["upn"].lower() if interactive else "",
        "tokenIssuerName": issuer_name, "tokenIssuerType": issuer_type,
        "uniqueTokenIdentifier": b64ish("uti/" + f, 22), "userAgent": ua, "userType": "member",
        "sessionId": guid("session/" + (session_label or label)) if error == 0 else "",
    }
    if not (interactive and mfa):
        del d["authenticationDetails"]
    SIGNINS.append(Item("signin", t, d, sid, kind))
    return d


# --------------------------------------------------------------------------
# The story. Times are UTC, January 2021. Steps are listed in README.md.

U = USERS
A = app

# ---- background (benign) ---------------------------------------------------
step("B1", "Ordinary user sign-ins and file/mail access from office (198.51.100.0/24) and home (203.0.113.0/24) addresses",
     "nothing high; baseline for first-seen logic", benign=True)
_bg_logins = [
    (T(11, 8, 2, 14), "megan.bowen", "officehome", "exo"),
    (T(11, 9, 3, 2), "isaiah.langer", "office", "exo"),
    (T(12, 8, 11, 51), "adele.vance", "portal", "aadgraph"),
    (T(13, 8, 5, 33), "megan.bowen", "officehome", "exo"),
    (T(13, 16, 22, 7), "lidia.holloway", "officehome", "spo"),
    (T(14, 8, 31, 25), "lee.gu", "portal", "aadgraph"),
    (T(15, 8, 44, 12), "diego.siciliani", "officehome", "exo"),
]
for _i, (_t, _k, _c, _r) in enumerate(_bg_logins):
    _u = U[_k]
    _ca = "Mobile Apps and Desktop clients" if _c == "office" else "Browser"
    _mfa = {"method": "Mobile app notification", "detail": "", "result": "MFA successfully completed"} if _k in ("adele.vance", "lee.gu", "megan.bowen") else None
    signin(_t, "bg-login-%d" % _i, "B1", "interactive", _u["ip"], A(_c), A(_r), u=_u, ua=ua_for(_u),
           client_app=_ca, mfa=_mfa)
    ual_sts(_t + dt.timedelta(seconds=1), "bg-login-%d" % _i, "B1", _u, True, _u["ip"], A(_c), A(_r), ua_for(_u),
            auth_method="1", request_type="OAuth2:Authorize", keep="False")

file_accessed(T(11, 9, 12, 40), "bg-file-1", "B1", U["pradeep.gupta"], "198.51.100.23", "Finance",
              "Shared Documents/FY21/Q3 forecast.xlsx", "xlsx")
file_accessed(T(13, 16, 25, 51), "bg-file-3", "B1", U["lidia.holloway"], "203.0.113.71", "Legal",
              "Shared Documents/Contracts/NDA template, 2021.docx", "docx")
mail_items_accessed(T(11, 8, 20, 5), "bg-mia-owner-1", "B1", U["pradeep.gupta"], "198.51.100.23:61244",
                    "Client=OWA;Action=ViaProxy", items=2, access="Bind")
mail_items_accessed(T(13, 8, 6, 58), "bg-mia-owner-2", "B1", U["megan.bowen"], "[2001:db8:4a1:200::1c]:52144",
                    "Client=REST;Client=RESTSystem;;", items=4, access="Sync")

signin(T(13, 3, 41, 55), "isaiah-refresh", "B1", "noninteractive", "2001:db8:4a1:200::1c", A("office"), A("exo"),
       u=U["isaiah.langer"], ua="Outlook-iOS/723.4027091.prod.iphone (4.2102.0)",
       client_app="Mobile Apps and Desktop clients", incoming="refreshToken")

step("B2", "Contoso MailSync, the mail-archiving connector, signs in nightly from its vendor address 203.0.113.40 "
     "with its 2020 certificate and reads mail through EWS",
     "inventory only (D31/D32); baseline for D19 and M02", benign=True)
for _d in (11, 12, 13):
    signin(T(_d, 1, 0, 3 + _d), "archiver-sp-%d" % _d, "B2", "sp", ARCHIVER_IP, A("mailsync"), A("exo"),
           key_id=KEY_MAILSYNC_OLD, thumb=THUMB_MAILSYNC_OLD)
for _d in (12,):
    mail_items_accessed(T(_d, 1, 10, 2 * _d), "archiver-mia-%d" % _d, "B2", U["megan.bowen"], ARCHIVER_IP,
                        "Client=WebServices;ExchangeWebServices/15.20.3763.012; MailSync/3.4.1",
                        app_id=APPS["mailsync"][1], client_app_id=APPS["mailsync"][1], items=3, access="Sync",
                        folder="\\Archive")

step("B3", "Alex Wilber (IT) uses Exchange Online PowerShell from the office",
     "D46 inventory only (Low)", benign=True)
_u = U["alex.wilber"]
signin(T(11, 10, 14, 27), "alex-exops", "B3", "interactive", _u["ip"], A("exops"), A("exo"), u=_u, ua=UA_PS_EXO,
       client_app="Mobile Apps and Desktop clients",
       mfa={"method": "Mobile app notification", "detail": "", "result": "MFA successfully completed"})
ual_sts(T(11, 10, 14, 28), "alex-exops", "B3", _u, True, _u["ip"], A("exops"), A("exo"), UA_PS_EXO,
        request_type="OAuth2:Authorize")

step("B4", "Alex Wilber updates the reply URLs of the Contoso Intranet app (\"Update application\", no credential change)",
     "no credential detection (D10/D11/D12 must not fire)", benign=True)
_app = A("intranet")
directory_change(T(11, 15, 31, 9), "intranet-update", "B4", "Update application", "Update application.",
                 "ApplicationManagement", "Update", U["alex.wilber"], "198.51.100.23", UA_EDGE,
                 [{"type": "Application", "id": _app["objId"], "displayName": _app["name"], "appId": _app["appId"],
                   "props": [("AppAddress", [{"AddressType": 0, "Address": "https://intranet.contoso.com/signin-oidc"}],
                              [{"AddressType": 0, "Address": "https://intranet.contoso.com/signin-oidc"},
                               {"AddressType": 0, "Address": "https://intranet2.contoso.com/signin-oidc"}]),
                             ("Included Updated Properties", None, "AppAddress")]}],
                 "Application", app_id_detail=_app["appId"])

step("B5", "Isaiah Langer consents for himself to Contoso Expenses with User.Read only",
     "no mail/file consent detection (D20/D22/D23 must not fire)", benign=True)
_app = A("expenses")
directory_change(T(12, 9, 47, 33), "expenses-consent", "B5", "Consent to application", "Consent to application.",
                 "ApplicationManagement", "Assign", U["isaiah.langer"], "2001:db8:4a1:200::1c", UA_IOS,
                 [{"type": "ServicePrincipal", "id": _app["spId"], "displayName": _app["name"], "appId": _app["appId"],
                   "props": [("ConsentContext.IsAdminConsent", None, "False"),
                             ("ConsentContext.IsAppOnly", None, "False"),
                             ("ConsentContext.OnBehalfOfAll", None, "False"),
                             ("ConsentContext.Tags", None, "WindowsAzureActiveDirectoryIntegratedApp"),
                             ("ConsentAction.Permissions", None,
                              "[] => [[Id: %s, ClientId: %s, PrincipalId: %s, ResourceId: %s, ConsentType: Principal, "
                              "Scope: User.Read, CreatedDateTime: , LastModifiedDateTime ]]; "
                              % (b64ish("grant/expenses", 43), _app["spId"], U["isaiah.langer"]["oid"], APPS["graph"][2])),
                             ("ConsentAction.Reason", None, "Risky application detected: False"),
                             ("TargetId.ServicePrincipalNames", None, _app["appId"])]}],
                 "ServicePrincipal")

step("B6", "Managed Service Identity rotates the certificate of the contoso-func-billing managed identity",
     "D09 matches the operation; the documented false-positive class (initiator Managed Service Identity) "
     "must not be reported as high", benign=True)
_app = A("func-billing")
directory_change(T(12, 18, 15, 2), "msi-rotation", "B6", "Add service principal credentials",
                 "Add service principal credentials.", "ApplicationManagement", "Update", {"msi": True}, None, UA_MSI,
                 [{"type": "ServicePrincipal", "id": _app["spId"], "displayName": _app["name"], "appId": _app["appId"],
                   "props": [("KeyDescription", [KEY_MSI_OLD], [KEY_MSI_OLD, KEY_MSI_NEW]),
                             ("Included Updated Properties", None, "KeyDescription"),
                             ("TargetId.ServicePrincipalNames", None,
                              "%s;https://identity.azure.net/%s" % (_app["appId"], b64ish("msi-spn", 43)))]}],
                 "ServicePrincipal", app_id_detail=_app["appId"], ual=False)

step("B7", "Joni Sherman creates an inbox rule that moves newsletters to a folder",
     "D45 lists it at most as an ordinary new inbox rule; no forwarding, not high", benign=True)
_u = U["joni.sherman"]
exo_admin(T(12, 14, 9, 45), "joni-rule", "B7", _u, "New-InboxRule",
          [("AlwaysDeleteOutlookRulesBlob", "False"), ("Force", "False"), ("Name", "Newsletters"),
           ("FromAddressContainsWords", "newsletter@;news@"), ("MoveToFolder", "Newsletters"),
           ("StopProcessingRules", "True")],
          "joni.sherman\\Newsletters", "198.51.100.23:50123", app_id=APPS["owa"][1])

step("B8", "Office sign-ins through the corporate egress 198.51.100.23, shared by many users every day",
     "new-address-shared-by-accounts must NOT fire: the egress is in the baseline", benign=True)
for _d in (12, 14):
    for _i, _k in enumerate(["pradeep.gupta", "grady.archie", "lynne.robbins"]):
        _u = U[_k]
        _t = T(_d, 8, 40 + 3 * _i, 11 + _i)
        signin(_t, "office-%d-%s" % (_d, _k), "B8", "interactive", "198.51.100.23", A("officehome"), A("exo"), u=_u,
               ua=ua_for(_u))
        ual_sts(_t + dt.timedelta(seconds=1), "office-%d-%s" % (_d, _k), "B8", _u, True, "198.51.100.23",
                A("officehome"), A("exo"), ua_for(_u), keep="False")

step("B9", "Alex Wilber (IT) resets two users' forgotten passwords, hours apart",
     "bulk-admin-password-resets must NOT fire (two resets, not a burst)", benign=True)
for _i, (_k, _t) in enumerate([("lidia.holloway", T(14, 10, 2, 41)), ("irvin.sayers", T(14, 13, 27, 5))]):
    _tu = U[_k]
    directory_change(_t, "helpdesk-reset-%s" % _k, "B9", "Reset user password", "Reset user password.",
                     "UserManagement", "Update", U["alex.wilber"], "198.51.100.23", UA_EDGE,
                     [{"type": "User", "id": _tu["oid"], "displayName": None, "user": _tu, "props": []}], "User")

# ---- the intrusion --------------------------------------------------------
step("S1", "Password spray from 13.59.205.66 against eight accounts (error 50126), then a hit on the "
     "cloud-only it-admin account, which has no MFA",
     "spray correlation (8 accounts, 8 failures, one IP, 50126, minutes; the UAL copies counted once); "
     "signin-after-spray-same-address (the initial access, it-admin at 02:21:16); D51 IOC-IP-MATCH")
_spray = ["megan.bowen", "pradeep.gupta", "lee.gu", "joni.sherman", "diego.siciliani", "johanna.lorenz",
          "lidia.holloway", "grady.archie"]
for _i, _k in enumerate(_spray):
    _t = T(13, 2, 14, 7) + dt.timedelta(seconds=37 * _i)
    _u = U[_k]
    signin(_t, "spray-%d" % _i, "S1", "interactive", ATTACKER_SPRAY, A("officehome"), A("exo"), u=_u, error=50126,
           failure="Error validating credentials due to invalid username or password.", ua=UA_SPRAY)
    ual_sts(_t + dt.timedelta(seconds=1), "spray-%d" % _i, "S1", _u, False, ATTACKER_SPRAY, A("officehome"),
            A("exo"), UA_SPRAY, request_type="Login:login", error="50126", logon_error="InvalidUserNameOrPassword")
_u = U["it-admin"]
_t = T(13, 2, 21, 16)
signin(_t, "spray-hit", "S1", "interactive", ATTACKER_SPRAY, A("officehome"), A("exo"), u=_u, ua=UA_SPRAY)
ual_sts(_t + dt.timedelta(seconds=1), "spray-hit", "S1", _u, True, ATTACKER_SPRAY, A("officehome"), A("exo"),
        UA_SPRAY, request_type="Login:login", keep="False")

step("S2", "it-admin connects with Azure AD PowerShell (1b730954-…) from the spray address",
     "D46 POWERSHELL-CLIENT-SIGNINS; D51")
_t = T(13, 2, 27, 40)
signin(_t, "itadmin-aadps", "S2", "interactive", ATTACKER_SPRAY, A("aadps"), A("aadgraph"), u=_u, ua=UA_PS_AAD,
       client_app="Mobile Apps and Desktop clients")
ual_sts(_t + dt.timedelta(seconds=1), "itadmin-aadps", "S2", _u, True, ATTACKER_SPRAY, A("aadps"), A("aadgraph"),
        UA_PS_AAD, request_type="OAuth2:Token")

step("S3", "it-admin converts the verified domain contoso.net to Federated and sets its federation settings "
     "to the AADInternals backdoor issuer " + ANY_STS,
     "D01 FED-DOMAIN-SET-FEDERATED (Critical); D02 FED-SETTINGS-MODIFIED (Critical); D03 FED-ANYSTS-BACKDOOR (Critical)")
_dom = {"type": "Other", "id": None, "displayName": BACKDOOR_DOMAIN}
directory_change(T(13, 2, 31, 12), "domain-federated", "S3", "Set domain authentication", "Set domain authentication.",
                 "DirectoryManagement", "Update", _u, ATTACKER_SPRAY, UA_PS_AAD,
                 [dict(_dom, props=[("LiveType", "Managed", "Federated"),
                                    ("Included Updated Properties", None, "LiveType")])],
                 "Domain", app_id_detail=APPS["aadps"][1])
_cert = "MIIC8DCCAdigAwIBAgIQ" + b64ish("backdoor-cert", 96) + "=="
directory_change(T(13, 2, 33, 48), "domain-fedsettings", "S3", "Set federation settings on domain",
                 "Set federation settings on domain.", "DirectoryManagement", "Update", _u, ATTACKER_SPRAY, UA_PS_AAD,
                 [dict(_dom, props=[("IssuerUri", None, ANY_STS),
                                    ("PassiveLogOnUri", None, "https://any.sts/16B45E3B"),
                                    ("SigningCertificate", None, _cert),
                                    ("FederationBrandName", None, BACKDOOR_DOMAIN),
                                    ("Included Updated Properties", None,
                                     "IssuerUri, PassiveLogOnUri, SigningCertificate, FederationBrandName")])],
                 "Domain", app_id_detail=APPS["aadps"][1])

step("S4", "Forged SAML sign-in as Adele Vance (Global Administrator) from 54.193.127.66: token issued by the "
     "backdoor issuer (tokenIssuerType ADFederationServices), MFA \"satisfied by claim\", UAL "
     "UserAuthenticationMethod 16457",
     "D06 SAML-FEDERATED-MFA-CLAIM (High); D07 SAML-16457 (Low); D03 via tokenIssuerName; D51")
_u = U["adele.vance"]
_claim = {"method": "Previously satisfied", "detail": "",
          "result": "MFA requirement satisfied by claim provided by external provider",
          "status_detail": "MFA requirement satisfied by claim provided by external provider"}
_t = T(13, 3, 5, 11)
signin(_t, "adele-saml", "S4", "interactive", ATTACKER_CLOUD, A("portal"), A("aadgraph"), u=_u, ua=UA_CHROME,
       issuer_type="ADFederationServices", issuer_name=ANY_STS, mfa=_claim, protocol="wsFederation",
       incoming="saml11",
       details=[{"authenticationStepDateTime": ct(_t) + "Z", "authenticationMethod": "Previously satisfied",
                 "authenticationMethodDetail": "Federated token", "succeeded": True,
                 "authenticationStepResultDetail": "MFA requirement satisfied by claim provided by external provider",
                 "authenticationStepRequirement": "Primary authentication"}])
ual_sts(_t + dt.timedelta(seconds=1), "adele-saml", "S4", _u, True, ATTACKER_CLOUD, A("portal"), A("aadgraph"),
        UA_CHROME, auth_method="16457", request_type="Saml:login", keep="False")
signin(T(13, 3, 10, 38), "adele-refresh", "S4", "noninteractive", ATTACKER_CLOUD, A("portal"), A("graph"), u=_u,
       ua=UA_CHROME, client_app="Browser", issuer_type="ADFederationServices", issuer_name=ANY_STS,
       incoming="refreshToken", mfa=_claim)

step("S5", "As Adele, the attacker adds a second certificate (same display name CN=MailSync) to the existing "
     "Contoso MailSync application and its service principal",
     "D10 APP-CRED-ADDED (High); D09 SP-CRED-ADDED (High); D12 NEW-CRED-ON-APP-WITH-EXISTING (Medium); D51")
_app = A("mailsync")
directory_change(T(13, 3, 12, 44), "mailsync-appcert", "S5", "Update application – Certificates and secrets management ",
                 "Update application – Certificates and secrets management ", "ApplicationManagement", "Update", _u,
                 ATTACKER_CLOUD, UA_CHROME,
                 [{"type": "Application", "id": _app["objId"], "displayName": _app["name"], "appId": _app["appId"],
                   "props": [("KeyDescription", [KEY_DESC_OLD], [KEY_DESC_OLD, KEY_DESC_NEW]),
                             ("Included Updated Properties", None, "KeyDescription")]}],
                 "Application", app_id_detail=_app["appId"])
directory_change(T(13, 3, 12, 45), "mailsync-spcred", "S5", "Add service principal credentials",
                 "Add service principal credentials.", "ApplicationManagement", "Update", _u, ATTACKER_CLOUD, UA_CHROME,
                 [{"type": "ServicePrincipal", "id": _app["spId"], "displayName": _app["name"], "appId": _app["appId"],
                   "props": [("KeyDescription", [KEY_DESC_OLD], [KEY_DESC_OLD, KEY_DESC_NEW]),
                             ("Included Updated Properties", None, "KeyDescription"),
                             ("TargetId.ServicePrincipalNames", None, _app["appId"])]}],
                 "ServicePrincipal", app_id_detail=_app["appId"])

step("S6", "Adele grants Contoso MailSync the Graph application permission Mail.Read and Exchange "
     "full_access_as_app, and gives tenant-wide admin consent",
     "D20 MAIL-PERMISSION-GRANTED-TO-APP (High); D21 EWS-FULL-ACCESS-AS-APP-GRANTED (High); "
     "D22 TENANT-WIDE-ADMIN-CONSENT (High, Mail.Read); D15 CRED-ON-HIGH-PRIV-APP (Critical)")


def _role_grant(t, label, resource_key, role_id, role_value, role_name):
    res = A(resource_key)
    directory_change(t, label, "S6", "Add app role assignment to service principal",
                     "Add app role assignment to service principal.", "ApplicationManagement", "Assign", _u,
                     ATTACKER_CLOUD, UA_CHROME,
                     [{"type": "ServicePrincipal", "id": res["spId"], "displayName": res["name"], "appId": res["appId"],
                       "props": [("AppRole.Id", None, role_id), ("AppRole.Value", None, role_value),
                                 ("AppRole.DisplayName", None, role_name),
                                 ("AppRoleAssignment.CreatedDateTime", None, ct(t) + ".%07dZ" % frac7(label)),
                                 ("ServicePrincipal.ObjectID", None, _app["spId"]),
                                 ("ServicePrincipal.DisplayName", None, _app["name"]),
                                 ("ServicePrincipal.AppId", None, _app["appId"])]},
                      {"type": "ServicePrincipal", "id": _app["spId"], "displayName": _app["name"],
                       "appId": _app["appId"]}],
                     "ServicePrincipal", app_id_detail=_app["appId"])


_role_grant(T(13, 3, 15, 2), "mailsync-mailread", "graph", MAIL_READ, "Mail.Read", "Read mail in all mailboxes")
_role_grant(T(13, 3, 15, 3), "mailsync-fullaccess", "exo", FULL_ACCESS_AS_APP, "full_access_as_app",
            "Use Exchange Web Services with full access to all mailboxes")
directory_change(T(13, 3, 15, 4), "mailsync-consent", "S6", "Consent to application", "Consent to application.",
                 "ApplicationManagement", "Assign", _u, ATTACKER_CLOUD, UA_CHROME,
                 [{"type": "ServicePrincipal", "id": _app["spId"], "displayName": _app["name"], "appId": _app["appId"],
                   "props": [("ConsentContext.IsAdminConsent", None, "True"),
                             ("ConsentContext.IsAppOnly", None, "False"),
                             ("ConsentContext.OnBehalfOfAll", None, "True"),
                             ("ConsentContext.Tags", None, "WindowsAzureActiveDirectoryIntegratedApp"),
                             ("ConsentAction.Permissions", None,
                              "[] => [[Id: %s, ClientId: %s, PrincipalId: , ResourceId: %s, ConsentType: AllPrincipals, "
                              "Scope:  Mail.Read, CreatedDateTime: , LastModifiedDateTime ]]; "
                              % (b64ish("grant/mailsync", 43), _app["spId"], APPS["graph"][2])),
                             ("ConsentAction.Reason", None, "Risky application detected: False"),
                             ("TargetId.ServicePrincipalNames", None, _app["appId"])]}],
                 "ServicePrincipal", app_id_detail=_app["appId"])

step("S7", "Contoso MailSync signs in with the new certificate from 54.193.127.66 and 192.0.2.77, "
     "minutes after the credential was added",
     "D17 SP-CRED-THEN-SIGNIN (High); D19 SP-SIGNIN-UNEXPECTED-IP; M01 (with an analyst-supplied app id); D51")
signin(T(13, 3, 19, 27), "mailsync-sp-graph", "S7", "sp", ATTACKER_CLOUD, _app, A("graph"),
       key_id=KEY_MAILSYNC_NEW, thumb=THUMB_MAILSYNC_NEW)
signin(T(13, 3, 34, 51), "mailsync-sp-exo", "S7", "sp", ATTACKER_VPS, _app, A("exo"),
       key_id=KEY_MAILSYNC_NEW, thumb=THUMB_MAILSYNC_NEW)

step("S8", "Contoso MailSync reads six mailboxes through Microsoft Graph in seven minutes (AppId Graph, "
     "ClientAppId = MailSync)",
     "D31 OAUTH-APP-MAIL-VIA-GRAPH; D33 APP-MULTI-MAILBOX-BURST (High; S8 and S9 are one burst, less than 10 "
     "minutes apart: 8 mailboxes in 10 records, 03:24:10 to 03:39:35); D34 APP-MAIL-BOTH-GRAPH-AND-DIRECT; D51")
for _i, _k in enumerate(["megan.bowen", "pradeep.gupta", "adele.vance", "lee.gu", "alex.wilber", "nestor.wilke"]):
    mail_items_accessed(T(13, 3, 24, 10) + dt.timedelta(seconds=83 * _i), "graph-mia-%d" % _i, "S8", U[_k],
                        ATTACKER_CLOUD, "Client=REST;Client=RESTSystem;;", app_id=APPS["graph"][1],
                        client_app_id=_app["appId"], items=2 + _i % 2, access="Bind")

step("S9", "Contoso MailSync reads four mailboxes through EWS from 192.0.2.77; auditing of one mailbox is "
     "throttled (IsThrottled True)",
     "D32 OAUTH-APP-MAIL-VIA-EWS; D33 (the S8 burst goes on); D36 MAILITEMSACCESSED-THROTTLED (High); "
     "M02 (with an analyst-supplied app id)")
for _i, _k in enumerate(["megan.bowen", "pradeep.gupta", "johanna.lorenz", "diego.siciliani"]):
    mail_items_accessed(T(13, 3, 36, 2) + dt.timedelta(seconds=71 * _i), "ews-mia-%d" % _i, "S9", U[_k],
                        "%s:%d" % (ATTACKER_VPS, 50311 + _i),
                        "Client=WebServices;ExchangeWebServices/15.20.3763.012; MailSync/3.4.1",
                        app_id=_app["appId"], client_app_id=_app["appId"], items=2, access="Bind",
                        throttled=(_i == 0))

step("S10", "Adele connects with Exchange Online PowerShell (a0c73c16-…) from 192.0.2.77 and assigns the "
     "ApplicationImpersonation role to the MailSync service account",
     "D46 (Low); D40 APPLICATIONIMPERSONATION-ROLE-ASSIGNED (High); D51")
_t = T(13, 3, 50, 19)
signin(_t, "adele-exops", "S10", "interactive", ATTACKER_VPS, A("exops"), A("exo"), u=_u, ua=UA_PS_EXO,
       client_app="Mobile Apps and Desktop clients", issuer_type="ADFederationServices", issuer_name=ANY_STS,
       mfa=_claim, protocol="wsFederation", incoming="saml11")
ual_sts(_t + dt.timedelta(seconds=1), "adele-exops", "S10", _u, True, ATTACKER_VPS, A("exops"), A("exo"),
        UA_PS_EXO, auth_method="16457", request_type="Saml:login")
exo_admin(T(13, 3, 53, 40), "impersonation", "S10", _u, "New-ManagementRoleAssignment",
          [("Name", "ApplicationImpersonation-svc-mailsync"), ("Role", "ApplicationImpersonation"),
           ("User", "svc-mailsync@contoso.com")],
          "ApplicationImpersonation-svc-mailsync", "[%s]:%d" % (ATTACKER_VPS, 50388), app_id=APPS["exops"][1])

step("S11", "BEC touches: a hidden inbox rule (whitespace-only name) on the CFO's mailbox forwards invoice mail "
     "outside, and the CEO's mailbox gets ForwardingSmtpAddress to an external domain",
     "D45 MAIL-FORWARDING (Medium; hidden rule name worth raising)")
exo_admin(T(13, 3, 58, 6), "hidden-rule", "S11", _u, "New-InboxRule",
          [("Mailbox", "pradeep.gupta"), ("Name", " "), ("SubjectOrBodyContainsWords", "invoice;payment;wire"),
           ("ForwardTo", "ap-desk@contoso-payments.example"), ("MarkAsRead", "True"),
           ("StopProcessingRules", "True")],
          "pradeep.gupta\\ ", "[%s]:%d" % (ATTACKER_VPS, 50402), app_id=APPS["exops"][1])
exo_admin(T(13, 4, 2, 31), "ceo-forward", "S11", _u, "Set-Mailbox",
          [("Identity", "megan.bowen"), ("ForwardingSmtpAddress", "smtp:m.bowen@mailbox-archive.example"),
           ("DeliverToMailboxAndForward", "True")],
          "megan.bowen", "[%s]:%d" % (ATTACKER_VPS, 50417), app_id=APPS["exops"][1])

step("S12", "Megan Bowen's browser session, phished through an adversary-in-the-middle proxy after she signed in "
     "from home at 08:05, is replayed from 192.0.2.77 with another browser",
     "session-from-several-addresses (High: two addresses, two autonomous systems, two browsers in the sign-in log); "
     "new-address-shared-by-accounts (192.0.2.77: Adele, Megan, it-admin; Medium, raised to High when the run knows "
     "an administrator among them: --set admin_accounts, or a privileged role granted in the baseline)")
_meg = U["megan.bowen"]
_t = T(13, 8, 41, 33)
_replayed = {"method": "Previously satisfied", "detail": "", "result": "MFA requirement satisfied by claim in the token"}
signin(_t, "megan-replay", "S12", "interactive", ATTACKER_VPS, A("officehome"), A("exo"), u=_meg, ua=UA_CHROME,
       mfa=_replayed, session_label="bg-login-3")
ual_sts(_t + dt.timedelta(seconds=1), "megan-replay", "S12", _meg, True, ATTACKER_VPS, A("officehome"), A("exo"),
        UA_CHROME, keep="False", session_label="bg-login-3")

step("S13", "As it-admin, the attacker resets the passwords of five accounts the spray did not crack, "
     "from 192.0.2.77 within four minutes",
     "bulk-admin-password-resets (Medium: 5 accounts, UAL and Entra copies counted once); "
     "new-address-shared-by-accounts (Medium)")
for _i, _k in enumerate(["joni.sherman", "diego.siciliani", "johanna.lorenz", "lidia.holloway", "grady.archie"]):
    _tu = U[_k]
    directory_change(T(13, 9, 12, 4) + dt.timedelta(seconds=53 * _i), "bulk-reset-%s" % _k, "S13",
                     "Reset user password", "Reset user password.", "UserManagement", "Update", U["it-admin"],
                     ATTACKER_VPS, UA_CHROME,
                     [{"type": "User", "id": _tu["oid"], "displayName": None, "user": _tu, "props": []}], "User")

# ---- remediation ----------------------------------------------------------
step("R1", "Lee Gu (security) revokes the refresh tokens of Adele Vance and it-admin and converts contoso.net "
     "back to Managed",
     "D08 STS-REFRESH-TOKEN-VALIDFROM-CHANGED (Medium, expected remediation); D01 must NOT fire for the "
     "Federated -> Managed change", benign=True)
_lee = U["lee.gu"]
signin(T(14, 9, 38, 2), "lee-portal", "R1", "interactive", _lee["ip"], A("portal"), A("aadgraph"), u=_lee,
       ua=ua_for(_lee), mfa={"method": "Mobile app notification", "detail": "", "result": "MFA successfully completed"})
for _i, _k in enumerate(["adele.vance", "it-admin"]):
    _tu = U[_k]
    directory_change(T(14, 9, 41, 3 + 40 * _i), "revoke-%s" % _k, "R1", "Update StsRefreshTokenValidFrom Timestamp",
                     "Update StsRefreshTokenValidFrom Timestamp.", "UserManagement", "Update", _lee, _lee["ip"],
                     UA_EDGE,
                     [{"type": "User", "id": _tu["oid"], "displayName": None, "user": _tu,
                       "props": [("StsRefreshTokensValidFrom", ["2020-11-02T08:11:40Z"],
                                  [ct(T(14, 9, 41, 3 + 40 * _i)) + "Z"]),
                                 ("Included Updated Properties", None, "StsRefreshTokensValidFrom")]}],
                     "User")
directory_change(T(14, 9, 52, 30), "domain-managed", "R1", "Set domain authentication", "Set domain authentication.",
                 "DirectoryManagement", "Update", _lee, _lee["ip"], UA_PS_AAD,
                 [dict(_dom, props=[("LiveType", "Federated", "Managed"),
                                    ("Included Updated Properties", None, "LiveType")])],
                 "Domain", app_id_detail=APPS["aadps"][1])

STEP_ORDER = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8",
              "S9", "S10", "S11", "S12", "S13", "R1"]


# --------------------------------------------------------------------------
# Lookups and small helpers for the renderers


def by_ual(label):
    want = guid("ual/" + label)
    for it in UAL:
        if it.data["Id"] == want:
            return it
    raise KeyError(label)


def by_signin(label):
    want = guid("signin/" + label)
    for it in SIGNINS:
        if it.data["id"] == want:
            return it
    raise KeyError(label)


def by_audit(label):
    want = guid("corr/" + label)
    for it in AUDITS:
        if it.data["correlationId"] == want:
            return it
    raise KeyError(label)


def item_key(it):
    if it.family == "ual":
        return "ual:" + it.data["Id"]
    if it.family == "signin":
        return "signin:" + it.data["id"]
    return "audit:" + it.data["id"]


def newest_first(items):
    return sorted(items, key=lambda it: (it.t, item_key(it)), reverse=True)


def oldest_first(items):
    return sorted(items, key=lambda it: (it.t, item_key(it)))


def aj(d):
    """Compact JSON as the services write it (UTF-8, no spaces)."""
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"))


def rows_array(rows):
    """A JSON array with one compact row per line (query-result exports)."""
    return "[\n" + ",\n".join(aj(r) for r in rows) + "\n]\n"


def pretty(d):
    return json.dumps(d, ensure_ascii=False, indent=2)


def csv_text(rows, quoting=csv.QUOTE_MINIMAL, delimiter=",", eol="\r\n"):
    buf = io.StringIO()
    w = csv.writer(buf, quoting=quoting, delimiter=delimiter, lineterminator=eol)
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


BOM = b"\xef\xbb\xbf"


def utf8(text, bom=False):
    return (BOM if bom else b"") + text.encode("utf-8")


RECORD_TYPE_NAMES = {1: "ExchangeAdmin", 6: "SharePointFileOperation", 8: "AzureActiveDirectory",
                     15: "AzureActiveDirectoryStsLogon", 50: "ExchangeItemAggregated"}
USER_TYPE_NAMES = {0: "Regular", 2: "Admin", 4: "System"}


def camel(name):
    return name[0].lower() + name[1:]


FIRST_PARTY_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"


def owner_tenant(app_id):
    contoso = {v[1] for k, v in APPS.items() if k in ("mailsync", "intranet", "expenses", "func-billing")}
    return TENANT if app_id in contoso else FIRST_PARTY_TENANT


# --------------------------------------------------------------------------
# UAL renderers

PURVIEW_HEADER = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData",
                  "AssociatedAdminUnits", "AssociatedAdminUnitsNames"]
CMDLET_HEADER = ["RecordType", "CreationDate", "UserIds", "Operations", "AuditData", "ResultIndex", "ResultCount",
                 "Identity", "IsValid", "ObjectState"]


def purview_rows(items):
    rows = [PURVIEW_HEADER]
    for it in items:
        d = it.data
        rows.append([d["Id"], en_us(it.t), str(d["RecordType"]), d["Operation"], d["UserId"], aj(d), "", ""])
    return rows


def classic_rows(items):
    rows = [["CreationDate", "UserIds", "Operations", "AuditData"]]
    for it in items:
        d = it.data
        rows.append([classic_date(it.t), d["UserId"], d["Operation"], aj(d)])
    return rows


def cmdlet_rows(items, date=en_us, prefix=None, prefix_values=None):
    head = (prefix or []) + CMDLET_HEADER
    rows = [head]
    for i, it in enumerate(items):
        d = it.data
        pre = prefix_values(it) if prefix else []
        rows.append(pre + [RECORD_TYPE_NAMES[d["RecordType"]], date(it.t), d["UserId"], d["Operation"], aj(d),
                           str(i + 1), str(len(items)), d["Id"], "True", "Unchanged"])
    return rows


def cmdlet_object(it, index, count, audit_as_string=False):
    """A Search-UnifiedAuditLog result object as ConvertTo-Json (PowerShell 7) writes it."""
    d = it.data
    return {"RecordType": RECORD_TYPE_NAMES[d["RecordType"]], "CreationDate": ct(it.t), "UserIds": d["UserId"],
            "Operations": d["Operation"], "AuditData": aj(d) if audit_as_string else d, "ResultIndex": index,
            "ResultCount": count, "Identity": d["Id"], "IsValid": True, "ObjectState": "Unchanged"}


def flat_rows(items):
    """Sparrow-style flattened export: AuditData keys as columns (from the first record only, as
    Export-Csv does), nested values as compact JSON with CR/LF stripped, booleans as True/False."""
    keys = list(items[0].data.keys())
    rows = [keys]
    for it in items:
        row = []
        for k in keys:
            v = it.data.get(k, "")
            if isinstance(v, bool):
                v = "True" if v else "False"
            elif isinstance(v, (list, dict)):
                v = json.dumps(v, ensure_ascii=False, separators=(",", ":")).replace("\\r\\n", "")
            row.append(str(v))
        rows.append(row)
    return rows


def graph_audit_record(it):
    d = it.data
    return {"id": d["Id"], "createdDateTime": ct(it.t) + "Z",
            "auditLogRecordType": camel(RECORD_TYPE_NAMES[d["RecordType"]]), "operation": d["Operation"],
            "organizationId": TENANT, "userType": camel(USER_TYPE_NAMES[d["UserType"]]), "userId": d["UserId"],
            "service": d["Workload"], "objectId": d.get("ObjectId", ""), "userPrincipalName": d["UserId"],
            "clientIp": d.get("ClientIP", d.get("ActorIpAddress", "")), "administrativeUnits": [], "auditData": d}


def office_activity(it):
    """A Sentinel OfficeActivity row: renamed columns, nested values as JSON text, RecordType as a string."""
    d = it.data
    s = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    row = {"TenantId": TENANT, "RecordType": str(d["RecordType"]), "TimeGenerated": ct(it.t) + "Z",
           "Operation": d["Operation"], "OrganizationId": TENANT, "OrganizationId_": TENANT,
           "UserType": USER_TYPE_NAMES[d["UserType"]], "UserKey": d["UserKey"], "OfficeWorkload": d["Workload"],
           "ResultStatus": d.get("ResultStatus", ""), "UserId": d["UserId"], "UserId_": d["UserId"]}
    rt = d["RecordType"]
    if rt == 50:
        row.update({"ExternalAccess": "False", "OriginatingServer": d["OriginatingServer"] + "\r\n",
                    "OrganizationName": ORG, "Logon_Type": "Owner", "MailboxGuid": d["MailboxGuid"],
                    "MailboxOwnerUPN": d["MailboxOwnerUPN"], "MailboxOwnerSid": d["MailboxOwnerSid"],
                    "LogonUserSid": d["LogonUserSid"], "ClientInfoString": d["ClientInfoString"],
                    "Client_IPAddress": d["ClientIPAddress"], "Folders": s(d.get("Folders", []))})
    elif rt == 1:
        row.update({"ClientIP": d["ClientIP"], "OfficeObjectId": d["ObjectId"],
                    "ExternalAccess": "True" if d["ExternalAccess"] else "False", "OrganizationName": ORG,
                    "OriginatingServer": d["OriginatingServer"] + "\r\n", "Parameters": s(d["Parameters"]),
                    "SessionId": d["SessionId"]})
    else:
        row.update({"ClientIP": d["ClientIP"], "OfficeObjectId": d["ObjectId"],
                    "AzureActiveDirectory_EventType": str(d["AzureActiveDirectoryEventType"]),
                    "ExtendedProperties": s(d["ExtendedProperties"]), "ModifiedProperties": s(d["ModifiedProperties"]),
                    "Actor": s(d["Actor"]), "ActorContextId": d["ActorContextId"], "ActorIpAddress": d["ActorIpAddress"],
                    "InterSystemsId": d["InterSystemsId"], "IntraSystemId": d["IntraSystemId"],
                    "SupportTicketId": "", "Target": s(d["Target"]), "TargetContextId": d["TargetContextId"],
                    "ApplicationId": d["ApplicationId"]})
    row.update({"ElevationTime": ct(it.t + dt.timedelta(minutes=9)) + "Z", "SourceSystem": "OfficeActivityManager",
                "OfficeId": d["Id"], "SourceRecordId": d["Id"],
                "Start_Time": ct(it.t + dt.timedelta(minutes=9)) + "Z", "OfficeTenantId": TENANT,
                "OfficeTenantId_": TENANT})
    if rt == 50:
        row["OperationProperties"] = s(d["OperationProperties"])
        if "AppId" in d:
            row["AppId"] = d["AppId"]
            row["ClientAppId"] = d.get("ClientAppId", "")
    elif rt == 1:
        row["AppId"] = d.get("AppId", "")
        row["ClientAppId"] = d.get("ClientAppId", "")
    row["Type"] = "OfficeActivity"
    return row


def graph_audit_csv_rows(items):
    """Extractor-Suite Get-UALGraph -Output CSV: the wrapper's columns, auditData as compact JSON."""
    head = ["id", "createdDateTime", "auditLogRecordType", "operation", "organizationId", "userType", "userId",
            "service", "objectId", "userPrincipalName", "clientIp", "administrativeUnits", "auditData"]
    rows = [head]
    for it in items:
        g = graph_audit_record(it)
        rows.append([g[k] if k not in ("administrativeUnits", "auditData") else
                     ("; ".join(g[k]) if k == "administrativeUnits" else aj(g[k])) for k in head])
    return rows


def _ps_object(d):
    """How Windows PowerShell stringifies a nested object: @{Name=x; Value=y}."""
    return "@{" + "; ".join("%s=%s" % (k, "System.Object[]" if isinstance(v, list) else v)
                             for k, v in d.items()) + "}"


def cloud_app_event(it, account, account_name, city, isp, activity, admin):
    """Microsoft 365 Defender CloudAppEvents row (adjacent shape): the UAL record in RawEventData,
    CreationTime with 7 digits and Z, nested arrays stringified by PowerShell."""
    d = dict(it.data)
    d["CreationTime"] = ct(it.t) + ".0000000Z"
    for k in ("OperationProperties", "Parameters", "Folders"):
        if k in d:
            d[k] = [_ps_object(x) for x in d[k]]
    ip = d.get("ClientIPAddress") or d["ClientIP"].split("]")[0].strip("[")
    if ip.count(":") == 1:
        ip = ip.split(":")[0]
    return {"Timestamp": ct(it.t) + "Z", "ActionType": d["Operation"], "Application": "Microsoft Exchange Online",
            "ApplicationId": 20893, "AccountObjectId": account, "AccountDisplayName": account_name,
            "IsAdminOperation": admin, "DeviceType": "Other", "OSPlatform": "Unknown", "IPAddress": ip,
            "IsAnonymousProxy": 0, "CountryCode": GEO[ip][2], "City": city, "ISP": isp,
            "UserAgent": d.get("ClientInfoString", ""), "ActivityType": activity, "ActivityObjects": [],
            "ObjectName": d["Operation"], "ObjectType": "Task", "ObjectId": "",
            "ReportId": "%d_20893_%s" % (num("report/" + d["Id"], 100000000, 999999999), d["Id"]),
            "AdditionalFields": {"IsSatelliteProvider": False}, "RawEventData": d}


# --------------------------------------------------------------------------
# Sign-in renderers

SIGNIN_HEADER_2024 = [
    "Date (UTC)", "Request ID", "User agent", "Correlation ID", "User ID", "User", "Username", "User type",
    "Cross tenant access type", "Incoming token type", "Authentication Protocol", "Unique token identifier",
    "Original transfer method", "Client credential type", "Token Protection - Sign In Session",
    "Token Protection - Sign In Session StatusCode", "Application", "Application ID ", "Resource", "Resource ID ",
    "Resource tenant ID", "Home tenant ID", "Home tenant name", "IP address", "Location", "Status",
    "Sign-in error code", "Failure reason", "Client app", "Device ID", "Browser", "Operating System", "Compliant",
    "Managed", "Join Type", "Multifactor authentication result", "Multifactor authentication auth method",
    "Multifactor authentication auth detail", "Authentication requirement", "Sign-in identifier", "Session ID",
    "IP address (seen by resource)", "Through Global Secure Access", "Global Secure Access IP address",
    "Autonomous system  number", "Flagged for review", "Token issuer type", "Incoming token type",
    "Token issuer name", "Latency", "Conditional Access", "Managed Identity type", "Associated Resource Id",
    "Federated Token Id", "Federated Token Issuer"]
assert len(SIGNIN_HEADER_2024) == 55
SIGNIN_HEADER_2025 = list(SIGNIN_HEADER_2024)
SIGNIN_HEADER_2025.insert(SIGNIN_HEADER_2025.index("Application ID ") + 1, "App owner tenant ID")
SIGNIN_HEADER_2025.insert(SIGNIN_HEADER_2025.index("Resource tenant ID") + 1, "Resource owner tenant ID")
assert len(SIGNIN_HEADER_2025) == 57


def signin_csv_row(it, variant=2024):
    d = it.data
    loc = d["location"]
    err = d["status"]["errorCode"]
    mfa = d.get("authenticationRequirement") == "multiFactorAuthentication"
    step0 = (d.get("authenticationDetails") or [{}])[0]
    mfa_detail = step0.get("authenticationStepResultDetail", "")
    if mfa_detail == "MFA successfully completed":
        mfa_detail = "MFA completed in Azure AD"
    row = [d["createdDateTime"][:19] + "Z", d["id"], d["userAgent"], d["correlationId"], d["userId"],
           d["userDisplayName"], d["userPrincipalName"], "Member", "none", d["incomingTokenType"],
           d["authenticationProtocol"], d["uniqueTokenIdentifier"], "none", "none", "none", "",
           d["appDisplayName"], d["appId"], d["resourceDisplayName"], d["resourceId"], TENANT, TENANT, "",
           d["ipAddress"], "%s, %s, %s" % (loc["city"], loc["state"], loc["countryOrRegion"]),
           "Success" if err == 0 else "Failure", str(err), d["status"]["failureReason"] if err else "",
           d["clientAppUsed"], "", d["deviceDetail"]["browser"], d["deviceDetail"]["operatingSystem"], "False",
           "False", "", "Succeeded" if mfa else "", step0.get("authenticationMethod", "") if mfa else "",
           mfa_detail if mfa else "", "Multifactor authentication" if mfa else "Single-factor authentication",
           d["signInIdentifier"], d["sessionId"], "", "False", "", str(d["autonomousSystemNumber"]), "False",
           d["tokenIssuerType"], d["incomingTokenType"], d["tokenIssuerName"],
           str(num("latency/" + d["id"], 40, 400)),
           "Success" if d["conditionalAccessStatus"] == "success" else "Not Applied", "", "", "", ""]
    if variant == 2025:
        row.insert(SIGNIN_HEADER_2025.index("App owner tenant ID"), owner_tenant(d["appId"]))
        row.insert(SIGNIN_HEADER_2025.index("Resource owner tenant ID"), owner_tenant(d["resourceId"]))
    return row


SIGNIN_CATEGORY = {"interactive": "SignInLogs", "noninteractive": "NonInteractiveUserSignInLogs",
                   "sp": "ServicePrincipalSignInLogs"}


def azure_monitor_signin(it):
    d = it.data
    props = dict(d)
    props["createdDateTime"] = d["createdDateTime"][:-1] + "+00:00"
    err = d["status"]["errorCode"]
    return {"time": d["createdDateTime"], "resourceId": TENANT_RESOURCE, "operationName": "Sign-in activity",
            "operationVersion": "1.0", "category": SIGNIN_CATEGORY[it.kind], "tenantId": TENANT,
            "resultType": str(err), "resultSignature": "None",
            "resultDescription": d["status"]["failureReason"] if err else "", "durationMs": 0,
            "callerIpAddress": d["ipAddress"], "correlationId": d["correlationId"],
            "identity": d["userDisplayName"] or d.get("servicePrincipalName", ""), "Level": 4,
            "location": d["location"]["countryOrRegion"], "properties": props}


def log_analytics_signin(it):
    """SigninLogs (dynamic columns as objects) or AADNonInteractiveUserSignInLogs (JSON text)."""
    d = it.data
    strings = it.kind == "noninteractive"
    dyn = (lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))) if strings else (lambda v: v)
    err = d["status"]["errorCode"]
    row = {"TenantId": TENANT, "SourceSystem": "Azure AD", "TimeGenerated": iso3(it.t, "signin-la/" + d["id"]),
           "ResourceId": TENANT_RESOURCE, "OperationName": "Sign-in activity", "OperationVersion": "1.0",
           "Category": SIGNIN_CATEGORY[it.kind], "ResultType": str(err), "ResultSignature": "None",
           "ResultDescription": d["status"]["failureReason"] if err else "", "DurationMs": 0,
           "CorrelationId": d["correlationId"], "Resource": "Microsoft.aadiam", "ResourceGroup": "Microsoft.aadiam",
           "ResourceProvider": "", "Identity": d["userDisplayName"], "Level": "4",
           "Location": d["location"]["countryOrRegion"], "AppDisplayName": d["appDisplayName"], "AppId": d["appId"],
           "AuthenticationDetails": json.dumps(d.get("authenticationDetails", []), separators=(",", ":")),
           "AuthenticationProtocol": d["authenticationProtocol"],
           "AuthenticationRequirement": d["authenticationRequirement"],
           "AutonomousSystemNumber": d["autonomousSystemNumber"], "ClientAppUsed": d["clientAppUsed"],
           "ConditionalAccessPolicies": dyn([]), "ConditionalAccessStatus": d["conditionalAccessStatus"],
           "CreatedDateTime": d["createdDateTime"], "DeviceDetail": dyn(d["deviceDetail"]), "HomeTenantId": TENANT,
           "IsInteractive": d["isInteractive"], "Id": d["id"], "IncomingTokenType": d["incomingTokenType"],
           "IPAddress": d["ipAddress"], "LocationDetails": dyn(d["location"]), "MfaDetail": dyn({}),
           "ResourceDisplayName": d["resourceDisplayName"], "ResourceIdentity": d["resourceId"],
           "ResourceTenantId": TENANT, "RiskDetail": "none", "RiskEventTypes": "[]", "RiskEventTypes_V2": "[]",
           "RiskLevelAggregated": "none", "RiskLevelDuringSignIn": "none", "RiskState": "none",
           "SessionId": d["sessionId"], "Status": dyn(d["status"]), "TokenIssuerName": d["tokenIssuerName"],
           "TokenIssuerType": d["tokenIssuerType"], "UniqueTokenIdentifier": d["uniqueTokenIdentifier"],
           "UserAgent": d["userAgent"], "UserDisplayName": d["userDisplayName"], "UserId": d["userId"],
           "UserPrincipalName": d["userPrincipalName"], "UserType": "Member"}
    row["ProcessingTimeInMs" if strings else "ProcessingTimeInMilliseconds"] = str(num("ms/" + d["id"], 40, 400))
    row["Type"] = "AADNonInteractiveUserSignInLogs" if strings else "SigninLogs"
    return row


# --------------------------------------------------------------------------
# Entra audit renderers


def initiator_name(d):
    by = d["initiatedBy"]
    if by.get("user"):
        return by["user"]["userPrincipalName"]
    return by["app"]["displayName"]


def initiator_ip(d):
    by = d["initiatedBy"]
    return (by.get("user") or {}).get("ipAddress") or ""


def azure_monitor_audit(it):
    d = it.data
    props = dict(d)
    props["activityDateTime"] = d["activityDateTime"][:-1] + "+00:00"
    return {"time": d["activityDateTime"], "resourceId": TENANT_RESOURCE, "operationName": d["activityDisplayName"],
            "operationVersion": "1.0", "category": "AuditLogs", "tenantId": TENANT, "resultSignature": "None",
            "durationMs": 0, "callerIpAddress": initiator_ip(d), "correlationId": d["correlationId"],
            "identity": initiator_name(d), "Level": 4, "properties": props}


def log_analytics_audit(it):
    """Sentinel AuditLogs row: InitiatedBy, TargetResources, AdditionalDetails as JSON text."""
    d = it.data
    s = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    ua = next((x["value"] for x in d["additionalDetails"] if x["key"] == "User-Agent"), "")
    return {"TenantId": TENANT, "SourceSystem": "Azure AD", "TimeGenerated": iso3(it.t, "audit-la/" + d["id"]),
            "ResourceId": TENANT_RESOURCE, "OperationName": d["activityDisplayName"], "OperationVersion": "1.0",
            "Category": d["category"], "ResultSignature": "None", "CorrelationId": d["correlationId"],
            "Resource": "Microsoft.aadiam", "ResourceGroup": "Microsoft.aadiam", "Level": "4",
            "AdditionalDetails": s(d["additionalDetails"]), "Id": d["id"], "InitiatedBy": s(d["initiatedBy"]),
            "LoggedByService": d["loggedByService"], "Result": d["result"], "ResultReason": d["resultReason"],
            "TargetResources": s(d["targetResources"]), "AADTenantId": TENANT,
            "ActivityDisplayName": d["activityDisplayName"], "ActivityDateTime": d["activityDateTime"],
            "AADOperationType": d["operationType"], "Type": "AuditLogs", "UserAgent": ua,
            "InitiatingUserOrApp": initiator_name(d)}


AUDIT_PORTAL_HEADER = ["Date (UTC)", "CorrelationId", "Service", "Category", "Activity", "Result", "ResultReason",
                       "User Agent", "ActorType", "ActorDisplayName", "ActorObjectId", "ActorUserPrincipalName",
                       "IPAddress", "ActorHomeTenantId", "ActorHomeTenantName", "ActorServicePrincipalId",
                       "ActorServicePrincipalName"]
for _n in (1, 2, 3):
    AUDIT_PORTAL_HEADER += ["Target%dType" % _n, "Target%dDisplayName" % _n, "Target%dObjectId" % _n,
                            "Target%dUserPrincipalName" % _n]
    for _m in range(1, 6):
        AUDIT_PORTAL_HEADER += ["Target%dModifiedProperty%dName" % (_n, _m), "Target%dModifiedProperty%dOldValue" % (_n, _m),
                                "Target%dModifiedProperty%dNewValue" % (_n, _m)]
for _n in range(1, 7):
    AUDIT_PORTAL_HEADER += ["AdditionalDetail%dKey" % _n, "AdditionalDetail%dValue" % _n]
assert len(AUDIT_PORTAL_HEADER) == 86


def audit_portal_row(it):
    """One row of the portal audit CSV: 3 targets x 5 properties x 6 details, the rest silently dropped."""
    d = it.data
    by = d["initiatedBy"]
    ua = next((x["value"] for x in d["additionalDetails"] if x["key"] == "User-Agent"), "")
    if by.get("user"):
        u = next(x for x in USERS.values() if x["oid"] == by["user"]["id"])
        actor = ["User", u["name"], u["oid"], u["upn"], by["user"]["ipAddress"] or "", "", "", "", ""]
    else:
        actor = ["Application", by["app"]["displayName"], "", "", "", "", "", by["app"]["servicePrincipalId"],
                 by["app"]["displayName"]]
    row = [d["activityDateTime"], d["correlationId"], d["loggedByService"], d["category"],
           d["activityDisplayName"], d["result"], d["resultReason"], ua] + actor
    for n in range(3):
        tr = d["targetResources"][n] if n < len(d["targetResources"]) else None
        if tr is None:
            row += [""] * 19
            continue
        row += [tr["type"], tr["displayName"] or "", tr["id"] or "", tr["userPrincipalName"] or ""]
        mps = tr["modifiedProperties"]
        for m in range(5):
            if m < len(mps):
                row += [mps[m]["displayName"], mps[m]["oldValue"] or "", mps[m]["newValue"] or ""]
            else:
                row += ["", "", ""]
    for n in range(6):
        ad = d["additionalDetails"]
        row += [ad[n]["key"], ad[n]["value"]] if n < len(ad) else ["", ""]
    assert len(row) == 86
    return row


# --------------------------------------------------------------------------
# Files

FILES = {}      # relative path -> bytes
MEMBERS = {}    # tenant file -> items it holds (README bookkeeping)
DESCR = {}      # relative path -> (format id, one-line description)


def put(path, data, fmt, descr, items=None):
    assert path not in FILES, path
    FILES[path] = data
    DESCR[path] = (fmt, descr)
    if items is not None:
        MEMBERS[path] = list(items)


def window(items, t0, t1, pred=None):
    return [it for it in items if t0 <= it.t < t1 and (pred is None or pred(it))]


def build_tenant():
    tdir = "tenant/"
    # Purview audit search export, run during the incident: up to Jan 13 03:35, newest first.
    items = newest_first(window(UAL, T(10, 0, 0), T(13, 3, 35)))
    put(tdir + "purview-audit-2021-01.csv", utf8(csv_text(purview_rows(items)), bom=True), "purview_csv",
        "Purview audit search export (new layout), 2021-01-10 00:00 to 2021-01-13 03:35, newest first; "
        "UTF-8 BOM, CRLF", items)
    # Search-UnifiedAuditLog -SessionCommand ReturnLargeSet | Export-Csv: unsorted (here ordered by Id).
    items = sorted(window(UAL, T(13, 2, 10), T(13, 2, 25)), key=lambda it: it.data["Id"])
    put(tdir + "ual-search-2021-01-13.csv", utf8(csv_text(cmdlet_rows(items), quoting=csv.QUOTE_ALL), bom=True),
        "ual_cmdlet_csv", "Search-UnifiedAuditLog | Export-Csv (en-US), 2021-01-13 02:10-02:25, unsorted "
        "(ReturnLargeSet); UTF-8 BOM, CRLF", items)
    # AuditData-only JSON Lines collected later (DFIR-O365RC style): from Jan 13 03:24 on.
    items = oldest_first(window(UAL, T(13, 3, 24), T(18, 0, 0)))
    put(tdir + "UAL-2021-01.jsonl", utf8("".join(aj(it.data) + "\n" for it in items)), "ual_json",
        "AuditData-only JSON Lines, 2021-01-13 03:24 to 2021-01-17; UTF-8, LF", items)
    # Management Activity API content blob (Audit.Exchange): one array, with one record delivered twice.
    items = oldest_first(window(UAL, T(13, 3, 35), T(13, 4, 30), lambda it: it.data["Workload"] == "Exchange"))
    items = items + [items[2]]
    put(tdir + "mgmt-api-content.json", utf8(pretty([it.data for it in items]) + "\n"), "ual_json",
        "Management Activity API content blob (Audit.Exchange), 2021-01-13 03:35-04:30, pretty-printed array; "
        "one record appears twice (the API duplicates by design)", items)

    inter = [it for it in SIGNINS if it.kind == "interactive"]
    items = newest_first(inter)
    rows = [SIGNIN_HEADER_2024] + [signin_csv_row(it) for it in items]
    put(tdir + "InteractiveSignIns_2021-01-10_2021-01-17.csv", utf8(csv_text(rows, quoting=csv.QUOTE_ALL), bom=True),
        "signin_portal_csv", "Entra portal interactive sign-in download (55-column 2024-10 header), newest first; "
        "UTF-8 BOM, CRLF", items)
    items = newest_first([it for it in SIGNINS if it.kind == "sp"])
    put(tdir + "ApplicationSignIns_2021-01-10_2021-01-17.json", utf8(rows_array([it.data for it in items])),
        "signin_graph", "Entra portal service-principal sign-in download, one JSON array", items)
    items = newest_first(window(inter, T(13, 2, 20), T(13, 4, 0)))
    page = {"@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
            "value": [it.data for it in items],
            "@odata.nextLink": "https://graph.microsoft.com/beta/auditLogs/signIns?$top=1000&$skiptoken="
                               + b64ish("skiptoken/signins", 48)}
    put(tdir + "signins-graph-page.json", utf8(aj(page)), "signin_graph",
        "Graph beta auditLogs/signIns page as received (one line, no final newline), 2021-01-13 02:20-04:00, "
        "newest first", items)
    hour = oldest_first(window(SIGNINS + AUDITS, T(13, 3, 0), T(13, 4, 0)))
    recs = [azure_monitor_signin(it) if it.family == "signin" else azure_monitor_audit(it) for it in hour]
    put(tdir + "azure-monitor-PT1H.json", utf8('{"records":[\n' + ",\n".join(aj(r) for r in recs) + "\n]}\n"),
        "signin_azure_monitor, entra_audit_azure_monitor", "Azure Monitor diagnostic export {\"records\":[...]} for 2021-01-13 03:00-04:00: "
        "SignInLogs, NonInteractiveUserSignInLogs, ServicePrincipalSignInLogs and AuditLogs mixed", hour)
    items = newest_first(AUDITS)
    page = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits",
            "value": [it.data for it in items]}
    text = '{"@odata.context":%s,"value":[\n%s\n]}\n' % (
        json.dumps(page["@odata.context"]), ",\n".join(aj(it.data) for it in items))
    put(tdir + "directoryAudits.json", utf8(text), "entra_audit_graph",
        "Graph v1.0 auditLogs/directoryAudits page, 2021-01-10 to 2021-01-17, newest first, one record per line",
        items)
    rows = [AUDIT_PORTAL_HEADER] + [audit_portal_row(it) for it in items]
    put(tdir + "AuditLogs-portal.csv", utf8(csv_text(rows, quoting=csv.QUOTE_ALL), bom=True),
        "entra_audit_portal_csv", "Entra portal audit download (86 columns: 3 targets x 5 properties x 6 details, "
        "the rest dropped), newest first; UTF-8 BOM, CRLF", items)


def extra(fn, *args, **kw):
    """Build a record outside the tenant story (format samples only)."""
    before = len(UAL)
    fn(*args, **kw)
    assert len(UAL) == before + 1
    return UAL.pop()


def build_formats():
    f = "formats/"
    its = newest_first([by_ual(x) for x in ("adele-saml", "hidden-rule")])
    put(f + "purview_csv.csv", utf8(csv_text(purview_rows(its))), "purview_csv",
        "Purview new-layout export, no BOM, CRLF")
    its = newest_first([by_ual(x) for x in ("domain-federated", "impersonation")])
    put(f + "purview_csv_classic.csv", utf8(csv_text(classic_rows(its)), bom=True), "purview_csv_classic",
        "Purview classic export (CreationDate,UserIds,Operations,AuditData), ISO CreationDate, UTF-8 BOM, CRLF")
    its = [by_ual(x) for x in ("itadmin-aadps", "ceo-forward")]
    put(f + "ual_cmdlet_csv.csv", utf8(csv_text(cmdlet_rows(its), quoting=csv.QUOTE_ALL)), "ual_cmdlet_csv",
        "Search-UnifiedAuditLog | Export-Csv -NoTypeInformation (PowerShell 7: no BOM), 10 columns, en-US dates")
    its = [by_ual(x) for x in ("joni-rule", "ceo-forward")]
    rows = cmdlet_rows(its, prefix=["RunspaceId"], prefix_values=lambda it: [guid("runspace/1")])
    put(f + "ual_cmdlet_csv-runspaceid.csv", utf8(csv_text(rows, quoting=csv.QUOTE_ALL)), "ual_cmdlet_csv",
        "cmdlet Export-Csv with a leading RunspaceId column (remoting session)")
    its = [by_ual(x) for x in ("domain-fedsettings", "impersonation")]
    rows = cmdlet_rows(its, prefix=["PSComputerName", "RunspaceId", "PSShowComputerName"],
                       prefix_values=lambda it: ["outlook.office365.com", guid("runspace/2"), "False"])
    text = "#TYPE Deserialized.Microsoft.Exchange.Data.ApplicationLogic.UnifiedAuditLogEvent\r\n" + \
        csv_text(rows, quoting=csv.QUOTE_ALL)
    put(f + "ual_cmdlet_csv-typeline.csv", utf8(text, bom=True), "ual_cmdlet_csv",
        "Windows PowerShell 5.1 Export-Csv without -NoTypeInformation: #TYPE first line, remoting columns "
        "PSComputerName,RunspaceId,PSShowComputerName first; UTF-8 BOM")
    its = [by_ual(x) for x in ("mailsync-appcert", "mailsync-spcred")]
    text = csv_text(flat_rows(its), quoting=csv.QUOTE_ALL)
    put(f + "ual_flat_csv.csv", text.encode("ascii", "replace"), "ual_flat_csv",
        "Sparrow-style flattened AuditData CSV (ASCII: the en dash became '?'), nested arrays as compact JSON")
    its = [by_ual(x) for x in ("joni-rule", "ews-mia-1")]
    put(f + "ual_json.jsonl", utf8("\n".join(aj(it.data) for it in its)), "ual_json",
        "AuditData-only JSON Lines, LF, no newline after the last record")
    w1 = [by_ual(x) for x in ("hidden-rule", "impersonation")]
    w2 = by_ual("ceo-forward")
    text = pretty([cmdlet_object(it, i + 1, 2) for i, it in enumerate(w1)]) + "\n" + \
        pretty(cmdlet_object(w2, 1, 1)) + "\n"
    put(f + "ual_cmdlet_json.json", utf8(text), "ual_cmdlet_json",
        "Extractor-Suite Get-UAL -Output JSON: one pretty array per time window appended to one file, the "
        "1-record window as a bare object; AuditData as an object")
    its = [by_ual(x) for x in ("adele-exops", "joni-rule")]
    put(f + "ual_cmdlet_json.jsonl", utf8("".join(aj(cmdlet_object(it, i + 1, 2, True)) + "\n"
                                                 for i, it in enumerate(its))), "ual_cmdlet_json",
        "cmdlet result objects as JSON Lines with AuditData as a JSON string")
    its = [by_ual(x) for x in ("adele-saml", "ceo-forward")]
    page = {"@odata.context": "https://graph.microsoft.com/beta/$metadata#security/auditLog/queries('%s')/records"
                              % guid("auditquery"),
            "value": [graph_audit_record(it) for it in its],
            "@odata.nextLink": "https://graph.microsoft.com/beta/security/auditLog/queries/%s/records?$skiptoken=%s"
                               % (guid("auditquery"), b64ish("skiptoken/audit", 40))}
    put(f + "graph_audit_record.json", utf8(aj(page) + "\n"), "graph_audit_record",
        "Graph Purview audit search records page (camelCase wrapper, auditData object)")
    its = [by_ual(x) for x in ("graph-mia-0", "ceo-forward")]
    put(f + "officeactivity.json", utf8(rows_array([office_activity(it) for it in its])), "officeactivity",
        "Sentinel OfficeActivity export: renamed columns, RecordType as a string, nested values as JSON text")

    its = [by_ual(x) for x in ("itadmin-aadps", "ceo-forward")]
    put(f + "graph_audit_csv.csv", utf8(csv_text(graph_audit_csv_rows(its), quoting=csv.QUOTE_ALL)), "graph_audit_csv",
        "Graph audit log query records as CSV (Extractor-Suite Get-UALGraph), auditData as compact JSON")
    its = [by_ual(x) for x in ("hidden-rule", "ceo-forward")]
    oa_rows = [office_activity(it) for it in its]
    rows = [list(oa_rows[0])] + [[str(r.get(k, "")) for k in oa_rows[0]] for r in oa_rows]
    put(f + "officeactivity_csv.csv", utf8(csv_text(rows)), "officeactivity_csv",
        "Log Analytics OfficeActivity rows as CSV; OriginatingServer ends in CR LF inside a quoted cell")
    mia = by_ual("graph-mia-0")
    rule = by_ual("hidden-rule")
    ev = [cloud_app_event(mia, APPS["mailsync"][1], APPS["mailsync"][0], "san jose", "Amazon.com", "Run", 0),
          cloud_app_event(rule, U["adele.vance"]["oid"], U["adele.vance"]["name"], "amsterdam", "Example VPS",
                          "Create", 1)]
    put(f + "m365d_cloudappevents.json", utf8(rows_array(ev)), "m365d_cloudappevents",
        "Microsoft 365 Defender CloudAppEvents rows (adjacent shape): UAL record in RawEventData, PowerShell-"
        "stringified OperationProperties/Parameters/Folders")

    its = newest_first([by_signin(x) for x in ("spray-3", "adele-saml")])
    rows = [SIGNIN_HEADER_2025] + [signin_csv_row(it, 2025) for it in its]
    put(f + "signin_portal_csv.csv", utf8(csv_text(rows, quoting=csv.QUOTE_ALL)), "signin_portal_csv",
        "Entra portal sign-in CSV, 57-column 2025 header (App owner / Resource owner tenant ID), no BOM")
    its = [by_signin(x) for x in ("adele-refresh", "spray-5")]
    put(f + "signin_graph.jsonl", utf8("".join(aj(it.data) + "\n" for it in its)), "signin_graph",
        "Graph beta signIn records as JSON Lines (CISA Goose)")
    its = [by_signin(x) for x in ("adele-refresh", "mailsync-sp-graph")]
    put(f + "signin_azure_monitor.jsonl", utf8("".join(aj(azure_monitor_signin(it)) + "\n" for it in its)),
        "signin_azure_monitor", "Azure Monitor diagnostic sign-in records, JSON Lines")
    its = [by_signin(x) for x in ("adele-saml",)]
    put(f + "signin_log_analytics.json", utf8(rows_array([log_analytics_signin(it) for it in its])),
        "signin_log_analytics", "Log Analytics SigninLogs rows (LocationDetails, DeviceDetail, Status as objects)")
    its = [by_signin(x) for x in ("isaiah-refresh",)]
    put(f + "signin_log_analytics-noninteractive.json",
        utf8(rows_array([log_analytics_signin(it) for it in its])), "signin_log_analytics",
        "Log Analytics AADNonInteractiveUserSignInLogs rows (nested values as JSON text)")

    its = newest_first([by_audit(x) for x in ("mailsync-mailread", "msi-rotation")])
    rows = [AUDIT_PORTAL_HEADER] + [audit_portal_row(it) for it in its]
    put(f + "entra_audit_portal_csv.csv", utf8(csv_text(rows, quoting=csv.QUOTE_ALL), bom=True),
        "entra_audit_portal_csv", "Entra portal audit CSV, 86 columns; the app role grant loses its 6th and 7th "
        "properties (ServicePrincipal.DisplayName, ServicePrincipal.AppId)")
    its = [by_audit(x) for x in ("domain-federated", "domain-fedsettings")]
    put(f + "entra_audit_graph.json", utf8(pretty([it.data for it in its]) + "\n"), "entra_audit_graph",
        "Graph directoryAudit records as one pretty JSON array (Extractor-Suite / DFIR-O365RC)")
    its = [by_audit(x) for x in ("mailsync-spcred", "domain-managed")]
    put(f + "entra_audit_azure_monitor.jsonl", utf8("".join(aj(azure_monitor_audit(it)) + "\n" for it in its)),
        "entra_audit_azure_monitor", "Azure Monitor diagnostic AuditLogs records, JSON Lines")
    its = [by_audit(x) for x in ("mailsync-appcert", "revoke-adele.vance")]
    put(f + "entra_audit_log_analytics.json", utf8("".join(aj(log_analytics_audit(it)) + "\r\n" for it in its)),
        "entra_audit_log_analytics", "Sentinel AuditLogs export, NDJSON with CRLF; InitiatedBy, TargetResources, "
        "AdditionalDetails as JSON text")

    # ---- encodings
    its = [by_ual(x) for x in ("joni-rule",)]
    text = csv_text(cmdlet_rows(its), quoting=csv.QUOTE_ALL)
    put(f + "encoding-utf16le-bom.csv", b"\xff\xfe" + text.encode("utf-16-le"), "ual_cmdlet_csv",
        "cmdlet CSV through Windows PowerShell 5.1 Out-File: UTF-16LE with BOM, CRLF")
    its = [by_ual(x) for x in ("impersonation", "ceo-forward")]
    put(f + "encoding-utf16le-nobom.jsonl", "".join(aj(it.data) + "\r\n" for it in its).encode("utf-16-le"),
        "ual_json", "AuditData JSON Lines in UTF-16LE without a BOM (NUL bytes at odd offsets)")
    its = [by_audit(x) for x in ("revoke-it-admin",)]
    put(f + "encoding-utf8-bom.json", utf8(pretty([it.data for it in its]) + "\r\n", bom=True),
        "entra_audit_graph", "directoryAudit records as a pretty JSON array, UTF-8 with BOM "
        "(Windows PowerShell 5.1 -Encoding UTF8)")
    its = [extra(file_accessed, T(12, 11, 3, 9), "fmt-cp1252-file", "B1", U["lidia.holloway"], "203.0.113.71",
                 "Legal", "Shared Documents/Réunion/Budgetübersicht – Entwurf.xlsx", "xlsx"),
           by_ual("mailsync-appcert")]
    text = csv_text(cmdlet_rows(its), quoting=csv.QUOTE_ALL)
    put(f + "encoding-cp1252.csv", text.encode("cp1252"), "ual_cmdlet_csv",
        "cmdlet CSV in Windows-1252 (é = E9, ü = FC, en dash = 96), as written with -Encoding Default")
    its = [by_ual(x) for x in ("spray-1", "hidden-rule")]
    text = csv_text(cmdlet_rows(its, date=de_de), quoting=csv.QUOTE_ALL, delimiter=";")
    put(f + "encoding-semicolon.csv", utf8(text, bom=True), "ual_cmdlet_csv",
        "cmdlet CSV with -UseCulture on de-DE: ';' delimiter, dd.MM.yyyy HH:mm:ss dates, UTF-8 BOM")

    # ---- malformed records among good ones (error accounting)
    good = [by_ual(x) for x in ("joni-rule", "impersonation", "ceo-forward")]
    trunc = aj(by_ual("graph-mia-3").data)
    trunc = trunc[:trunc.index('"ClientInfoString"') + 30]
    trailing = aj(by_ual("hidden-rule").data)[:-1] + ",}"
    lines = [aj(good[0].data),
             trunc,
             aj(good[1].data),
             trailing,
             "42",
             '{"EventID":4624,"Computer":"DC01.corp.contoso.com","TimeCreated":"2021-01-13T03:30:00.000Z",'
             '"Channel":"Security","TargetUserName":"svc-mailsync"}',
             aj(good[2].data)]
    put(f + "malformed.jsonl", utf8("".join(x + "\n" for x in lines)), "ual_json",
        "7 lines: 3 good AuditData records (lines 1, 3, 7); a truncated record (line 2), a trailing comma "
        "(line 4), a bare number (line 5), an unrecognised object (line 6)")


# --------------------------------------------------------------------------
# README files (generated, so the tables always match the data)


def md(text):
    """A Markdown table cell."""
    return text.replace("|", "\\|")


def span_text(items):
    t0 = min(it.t for it in items)
    t1 = max(it.t for it in items)
    if t0.date() == t1.date():
        if t0 == t1:
            return t0.strftime("%Y-%m-%d %H:%M:%S")
        return "%s–%s" % (t0.strftime("%Y-%m-%d %H:%M:%S"), t1.strftime("%H:%M:%S"))
    return "%s – %s" % (t0.strftime("%Y-%m-%d %H:%M"), t1.strftime("%Y-%m-%d %H:%M"))


def tenant_readme():
    out = []
    w = out.append
    w("# Sample tenant \"contoso\": an intrusion story for reviewers\n")
    w("Generated by `samples/tools/gen-samples.py` (do not edit by hand; change the generator and rerun it). "
      "Every record is composed: fictional tenant, documentation IP ranges for ordinary traffic "
      "(198.51.100.0/24 office, 203.0.113.0/24 homes and vendors, 2001:db8::/32), and for the attacker two "
      "addresses from the public UNC2452 IOC lists (`13.59.205.66`, `54.193.127.66`, Volexity / FireEye, "
      "indicators.md §5) plus the documentation address `192.0.2.77`. All times are UTC, January 2021.\n")
    w("The story follows the SolarWinds/UNC2452 cloud phase (AA21-008A): a sprayed cloud-only admin, a federation "
      "backdoor on a spare domain (AADInternals `any.sts` issuer), a forged SAML sign-in as a Global "
      "Administrator, a certificate added to an existing mail-archiving application (the Mimecast pattern), "
      "Mail.Read and full_access_as_app granted to it, then mail read through Graph and EWS, Exchange "
      "impersonation, and two BEC touches. Benign lookalikes are planted next to each step.\n")
    w("## Tenant\n")
    w("| Item | Value |\n|---|---|")
    w("| Tenant / OrganizationId | `%s` |" % TENANT)
    w("| Domains | `contoso.com` (federated with on-premises AD FS), `%s` (spare verified domain), `%s` |"
      % (BACKDOOR_DOMAIN, ORG))
    w("| Global Administrators | Adele Vance `adele.vance@contoso.com`, `it-admin@contoso.onmicrosoft.com` (cloud-only, no MFA) |")
    w("| Security / IT | Lee Gu (security), Alex Wilber (IT) |")
    w("| CEO / CFO | Megan Bowen, Pradeep Gupta |")
    for key in ("mailsync", "intranet", "expenses", "func-billing"):
        a = A(key)
        w("| App `%s` | appId `%s`, service principal `%s`%s |" % (
            a["name"], a["appId"], a["spId"], ", application object `%s`" % a["objId"] if a["objId"] else ""))
    w("| MailSync certificates | 2020 key `%s` (thumbprint `%s`); attacker key `%s` (thumbprint `%s`), "
      "both `CN=MailSync` |" % (KEY_MAILSYNC_OLD, THUMB_MAILSYNC_OLD, KEY_MAILSYNC_NEW, THUMB_MAILSYNC_NEW))
    w("| MailSync vendor address | `%s` (nightly EWS archiving) |" % ARCHIVER_IP)
    w("| Attacker addresses | `%s` (spray, AWS us-east-2), `%s` (AWS us-west-1), `%s` (VPS, documentation range) |"
      % (ATTACKER_SPRAY, ATTACKER_CLOUD, ATTACKER_VPS))
    w("")
    w("## Files\n")
    w("| File | Format id | Records | What |\n|---|---|---|---|")
    for path in sorted(p for p in FILES if p.startswith("tenant/") and p in MEMBERS):
        w("| `%s` | `%s` | %d | %s |" % (path[7:], DESCR[path][0], len(MEMBERS[path]), md(DESCR[path][1])))
    w("")
    w("## Timeline\n")
    w("Where: file (records of this step in it). Expect: detections from indicators.md §4 that should fire; "
      "**benign** steps must not produce high-severity findings.\n")
    for sid in STEP_ORDER:
        st = STEPS[sid]
        items = [it for it in UAL + SIGNINS + AUDITS if it.step == sid]
        where = []
        for path in sorted(MEMBERS):
            keys = {item_key(it) for it in items}
            n = sum(1 for it in MEMBERS[path] if item_key(it) in keys)
            if n:
                where.append("`%s` (%d)" % (path[7:], n))
        w("### %s%s · %s\n" % (sid, " (benign)" if st["benign"] else "", span_text(items)))
        w(st["title"] + ".\n")
        w("* Where: " + ", ".join(where))
        w("* Expect: " + st["expect"] + "\n")
    w("## Duplicates and overlap\n")
    w("The files overlap on purpose. Record identity: UAL `Id` (= `RecordId`, `Identity`), sign-in `id` "
      "(= portal `Request ID`), directory audit `id` (the portal audit CSV has none).\n")
    w("| Family | Files | Records read | Unique | Duplicates |\n|---|---|---|---|---|")
    fam_files = {"ual": [], "signin": [], "audit": []}
    for path in sorted(p for p in MEMBERS if not p.endswith("AuditLogs-portal.csv")):
        for it in MEMBERS[path]:
            fam_files[it.family].append((path, it))
    for fam, label in (("ual", "UAL (AuditData)"), ("signin", "Entra sign-ins"), ("audit", "Entra directory audit")):
        pairs = fam_files[fam]
        files = sorted({p[7:] for p, _ in pairs})
        uniq = {item_key(it) for _, it in pairs}
        w("| %s | %s | %d | %d | %d |" % (label, ", ".join("`%s`" % f for f in files), len(pairs), len(uniq),
                                          len(pairs) - len(uniq)))
    w("")
    w("`AuditLogs-portal.csv` is left out of this table: it has no record id, so its %d rows can only be matched "
      "to `directoryAudits.json` on (Date, CorrelationId, Activity, Target1ObjectId).\n"
      % len(MEMBERS["tenant/AuditLogs-portal.csv"]))
    w("UAL records and Entra records of the same change (for example `Add service principal credentials.` and "
      "`Add service principal credentials`) carry different ids: keep both. Here UAL `InterSystemsId` equals "
      "the Entra `correlationId` of the same change (UNVERIFIED in real data, formats.md §6.4).\n")
    w("## Things to check in the output\n")
    w("* `ual-search-2021-01-13.csv` and the Purview file give the same instants in `M/d/yyyy h:mm:ss tt`; "
      "`AuditData.CreationTime` is authoritative.")
    w("* `AuditLogs-portal.csv` drops properties beyond the fifth: the app role grants lose "
      "`ServicePrincipal.DisplayName` and `ServicePrincipal.AppId`, the consents lose `ConsentAction.Reason` and "
      "`TargetId.ServicePrincipalNames`; `directoryAudits.json` has them all.")
    w("* The hidden inbox rule is named `\" \"` (one space); its `ObjectId` is `pradeep.gupta\\` followed by that "
      "space.")
    w("* `Update application – Certificates and secrets management ` has an en dash (U+2013) and a trailing space, "
      "no period, in both UAL and Entra spellings.")
    w("* The 55-column sign-in header is the 2024-10 portal layout, applied to 2021 data (the shape, not the "
      "date, is what the sample tests); property names of `Set federation settings on domain` are composed "
      "(indicators.md D02 marks them unverified).")
    return "\n".join(out) + "\n"


def formats_readme():
    out = ["# Single-shape samples\n",
           "Generated by `samples/tools/gen-samples.py`. One file per export shape (format id as in "
           "docs/formats.md), a few records each, taken from the contoso story in `../tenant/`. "
           "`encoding-*` files vary the bytes on disk; `malformed.jsonl` mixes good and bad records for "
           "error accounting.\n",
           "| File | Format id | What |", "|---|---|---|"]
    for path in sorted(p for p in FILES if p.startswith("formats/")):
        out.append("| `%s` | `%s` | %s |" % (path[8:], DESCR[path][0], md(DESCR[path][1])))
    return "\n".join(out) + "\n"


def samples_readme():
    return """# samples/

Sample exports written by this project (never copied from real tenants or from the corpus):

* `tenant/`: the fictional tenant "contoso" with an intrusion story told across the export shapes an
  analyst receives, overlapping in time (dedup matters). `tenant-story.md` is the timeline with the
  detections that should and should not fire.
* `formats/`: one small file per export shape and encoding; `formats-index.md` lists them.
* `rules/`: sample rule files (maintained separately).
* `tools/gen-samples.py`: writes `tenant/` and `formats/` (and these README files) deterministically.
  After changing it, run `python3 samples/tools/gen-samples.py` and commit the script and its output;
  `sh tests/tools/check-samples.sh` fails when they differ.
* `tools/validate-samples.py`: reads the files back and checks the shapes, quirks and story elements
  promised here and in docs/formats.md (run by `tests/tools/check-samples.sh`).
* `demo.sh`: what `make demo` runs over `tenant/`.

Container variants (`.gz`, `.zip`, `.tar.gz`, `.7z`, nested) are built from these files by
`tests/tools/mkcontainers.py OUTDIR` for the end-to-end tests.
"""


def build():
    build_tenant()
    build_formats()
    FILES["README.md"] = samples_readme().encode()
    FILES["tenant-story.md"] = tenant_readme().encode()
    FILES["formats-index.md"] = formats_readme().encode()
    return FILES


# Paths the generator owns; anything else under them is stale.
OWNED_DIRS = ("tenant", "formats")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.dirname(here), help="samples directory to write (default: samples/)")
    ap.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing")
    ap.add_argument("--list", action="store_true", help="print the generated paths and sizes")
    args = ap.parse_args()
    files = build()
    if args.list:
        for path in sorted(files):
            print("%7d %s" % (len(files[path]), path))
        print("%7d total" % sum(len(v) for v in files.values()))
        return 0
    if args.check:
        bad = 0
        for path in sorted(files):
            full = os.path.join(args.out, path)
            try:
                with open(full, "rb") as fh:
                    same = fh.read() == files[path]
                print("%s %s" % ("ok" if same else "DIFFERS", path))
            except OSError:
                same = False
                print("MISSING %s" % path)
            bad += not same
        for d in OWNED_DIRS:
            for root, _dirs, names in os.walk(os.path.join(args.out, d)):
                for n in names:
                    rel = os.path.relpath(os.path.join(root, n), args.out).replace(os.sep, "/")
                    if rel not in files:
                        print("STALE %s" % rel)
                        bad += 1
        return 1 if bad else 0
    for path in sorted(files):
        full = os.path.join(args.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(files[path])
    return 0


if __name__ == "__main__":
    sys.exit(main())
