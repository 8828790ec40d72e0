#!/usr/bin/env python3
"""Write the CSV test fixtures of the solarwinds rule pack.

The embedded tests of rules/solarwinds/*.rules take inline JSON records; export
shapes that are CSV (the Entra portal audit and sign-in downloads) need files.
This script writes them in the exact layouts the portal produces (the 86-column
audit header, the 55-column 2024-10 sign-in header, UTF-8 BOM, CRLF), so a
fixture exercises the same detection and normalization as a real download.

Values are composed (tenant "contoso", documentation addresses); nothing is
copied from the shared corpus. Run from anywhere; it writes next to itself:

    python3 rules/solarwinds/tests/make-fixtures.py
"""
import csv
import io
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TENANT = "cae660e6-b456-4b35-b35f-12f2ad07a0a4"

AUDIT_HEADER = [
    "Date (UTC)", "CorrelationId", "Service", "Category", "Activity", "Result", "ResultReason",
    "User Agent", "ActorType", "ActorDisplayName", "ActorObjectId", "ActorUserPrincipalName",
    "IPAddress", "ActorHomeTenantId", "ActorHomeTenantName", "ActorServicePrincipalId",
    "ActorServicePrincipalName",
]
for t in (1, 2, 3):
    AUDIT_HEADER += [f"Target{t}Type", f"Target{t}DisplayName", f"Target{t}ObjectId",
                     f"Target{t}UserPrincipalName"]
    for p in range(1, 6):
        AUDIT_HEADER += [f"Target{t}ModifiedProperty{p}Name", f"Target{t}ModifiedProperty{p}OldValue",
                         f"Target{t}ModifiedProperty{p}NewValue"]
for d in range(1, 7):
    AUDIT_HEADER += [f"AdditionalDetail{d}Key", f"AdditionalDetail{d}Value"]
assert len(AUDIT_HEADER) == 86

SIGNIN_HEADER = [
    "Date (UTC)", "Request ID", "User agent", "Correlation ID", "User ID", "User", "Username",
    "User type", "Cross tenant access type", "Incoming token type", "Authentication Protocol",
    "Unique token identifier", "Original transfer method", "Client credential type",
    "Token Protection - Sign In Session", "Token Protection - Sign In Session StatusCode",
    "Application", "Application ID ", "Resource", "Resource ID ", "Resource tenant ID",
    "Home tenant ID", "Home tenant name", "IP address", "Location", "Status", "Sign-in error code",
    "Failure reason", "Client app", "Device ID", "Browser", "Operating System", "Compliant",
    "Managed", "Join Type", "Multifactor authentication result",
    "Multifactor authentication auth method", "Multifactor authentication auth detail",
    "Authentication requirement", "Sign-in identifier", "Session ID",
    "IP address (seen by resource)", "Through Global Secure Access",
    "Global Secure Access IP address", "Autonomous system  number", "Flagged for review",
    "Token issuer type", "Incoming token type", "Token issuer name", "Latency",
    "Conditional Access", "Managed Identity type", "Associated Resource Id", "Federated Token Id",
    "Federated Token Issuer",
]
assert len(SIGNIN_HEADER) == 55


PURVIEW_HEADER = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData",
                  "AssociatedAdminUnits", "AssociatedAdminUnitsNames"]
CMDLET_HEADER = ["RecordType", "CreationDate", "UserIds", "Operations", "AuditData", "ResultIndex",
                 "ResultCount", "Identity", "IsValid", "ObjectState"]
RECORD_TYPE_NAMES = {1: "ExchangeAdmin", 2: "ExchangeItem", 8: "AzureActiveDirectory",
                     15: "AzureActiveDirectoryStsLogon", 50: "ExchangeItemAggregated"}


def us_date(iso):
    """CreationDate as an en-US culture writes it: M/d/yyyy h:mm:ss tt."""
    d, t = iso.split("T")
    y, m, dd = d.split("-")
    hh, mm, ss = t[:8].split(":")
    h = int(hh)
    return f"{int(m)}/{int(dd)}/{y} {h % 12 or 12}:{mm}:{ss} {'AM' if h < 12 else 'PM'}"


def purview_row(audit):
    """A Purview audit search export row (new layout) around an AuditData record."""
    return [audit["Id"], us_date(audit["CreationTime"]), str(audit["RecordType"]), audit["Operation"],
            audit.get("UserId", ""), json.dumps(audit, separators=(",", ":"), ensure_ascii=False), "", ""]


def cmdlet_row(audit, index, count):
    """A Search-UnifiedAuditLog | Export-Csv row around an AuditData record."""
    return [RECORD_TYPE_NAMES.get(audit["RecordType"], str(audit["RecordType"])), us_date(audit["CreationTime"]),
            audit.get("UserId", ""), audit["Operation"], json.dumps(audit, separators=(",", ":"), ensure_ascii=False),
            str(index), str(count), audit["Id"], "True", "Unchanged"]


def q(value):
    """A modified-property value as the portal writes it: JSON-encoded."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def audit_row(date, corr, activity, actor, ip, targets, details, result="success",
              category="ApplicationManagement", actor_type="User", ua="Mozilla/5.0"):
    row = dict.fromkeys(AUDIT_HEADER, "")
    row.update({"Date (UTC)": date, "CorrelationId": corr, "Service": "Core Directory",
                "Category": category, "Activity": activity, "Result": result, "User Agent": ua,
                "ActorType": actor_type, "IPAddress": ip})
    if actor_type == "User":
        row["ActorUserPrincipalName"] = actor
        row["ActorDisplayName"] = actor.split("@")[0]
    else:
        row["ActorDisplayName"] = actor
        row["ActorServicePrincipalName"] = actor
        row["ActorServicePrincipalId"] = "007fcb05-3012-435e-ad35-4c1948c2e668"
    for t, (ttype, tname, tid, props) in enumerate(targets, 1):
        row[f"Target{t}Type"] = ttype
        row[f"Target{t}DisplayName"] = tname
        row[f"Target{t}ObjectId"] = tid
        for p, (name, old, new) in enumerate(props, 1):
            row[f"Target{t}ModifiedProperty{p}Name"] = name
            row[f"Target{t}ModifiedProperty{p}OldValue"] = old
            row[f"Target{t}ModifiedProperty{p}NewValue"] = new
    for d, (k, v) in enumerate(details, 1):
        row[f"AdditionalDetail{d}Key"] = k
        row[f"AdditionalDetail{d}Value"] = v
    return [row[h] for h in AUDIT_HEADER]


def signin_row(**kv):
    row = dict.fromkeys(SIGNIN_HEADER, "")
    for k, v in kv.items():
        row[k] = v
    return [row[h] for h in SIGNIN_HEADER]


def write(name, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    with open(os.path.join(HERE, name), "w", encoding="utf-8-sig", newline="") as f:
        f.write(buf.getvalue())


UA_PS = "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.17763.1490"
KEY_OLD = "[KeyIdentifier=a0e2253a-a78d-40e1-88df-5727d45850b6,KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=MailSync]"
KEY_NEW = "[KeyIdentifier=ea6cacc6-7d55-4d31-b352-cd155bcd976e,KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=MailSync]"
KEY_PW = "[KeyIdentifier=5d1e4f00-1b2c-4d3e-8f90-a1b2c3d4e5f6,KeyType=Password,KeyUsage=Verify,DisplayName=sync-secret]"
MAILSYNC_APP = "e79f1579-db86-4475-8741-eb6f312c4ff4"
MAILSYNC_SP = "864a3a1e-4ccc-460a-adfe-8167e544a35a"
MAILSYNC_OBJ = "4ebaa17b-4a59-4c34-8745-833c752d9dad"


def jarr(*keys):
    """KeyDescription as written by the portal: a JSON array of strings."""
    return "[" + ",".join(q(k) for k in keys) + "]"


def main():
    # --- federation.rules -------------------------------------------------
    write("portal-audit-d01-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T02:31:12.2546309Z", "0b1d0001-0000-4000-8000-0000000000c1",
                  "Set domain authentication", "it-admin@contoso.onmicrosoft.com", "192.0.2.10",
                  [("Other", "contoso.net", "", [("LiveType", q("Managed"), q("Federated")),
                                                 ("Included Updated Properties", "", q("LiveType"))])],
                  [("User-Agent", UA_PS), ("AppId", "1b730954-1685-4b74-9bfd-dac224a7b894")],
                  category="DirectoryManagement", ua=UA_PS),
    ])
    write("portal-audit-d02-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T02:33:48.7701426Z", "0b1d0002-0000-4000-8000-0000000000c1",
                  "Set federation settings on domain", "it-admin@contoso.onmicrosoft.com", "192.0.2.10",
                  [("Other", "contoso.net", "", [("IssuerUri", "", q("http://sts.contoso.net/adfs/services/trust")),
                                                 ("Included Updated Properties", "", q("IssuerUri"))])],
                  [("User-Agent", UA_PS)], category="DirectoryManagement", ua=UA_PS),
    ])
    write("portal-audit-d03-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T02:33:48.7701426Z", "0b1d0003-0000-4000-8000-0000000000c1",
                  "Set federation settings on domain", "it-admin@contoso.onmicrosoft.com", "192.0.2.10",
                  [("Other", "contoso.net", "", [("IssuerUri", "", q("http://any.sts/16B45E3B")),
                                                 ("PassiveLogOnUri", "", q("https://any.sts/16B45E3B"))])],
                  [("User-Agent", UA_PS)], category="DirectoryManagement", ua=UA_PS),
    ])
    write("InteractiveSignIns_d03-hit.csv", SIGNIN_HEADER, [
        signin_row(**{"Date (UTC)": "2021-01-13T03:05:11Z", "Request ID": "0b1d0004-0000-4000-8000-0000000000c1",
                      "User agent": "Mozilla/5.0", "Correlation ID": "0b1d0004-0000-4000-8000-0000000000c2",
                      "User": "Adele Vance", "Username": "adele.vance@contoso.com", "User type": "Member",
                      "Incoming token type": "saml11", "Authentication Protocol": "wsFederation",
                      "Application": "Azure Portal", "Application ID ": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
                      "Resource": "Windows Azure Active Directory",
                      "Resource ID ": "00000002-0000-0000-c000-000000000000", "Resource tenant ID": TENANT,
                      "Home tenant ID": TENANT, "IP address": "192.0.2.10", "Location": "San Jose, California, US",
                      "Status": "Success", "Sign-in error code": "0", "Client app": "Browser",
                      "Multifactor authentication result": "Succeeded",
                      "Multifactor authentication auth method": "Previously satisfied",
                      "Multifactor authentication auth detail": "MFA requirement satisfied by claim provided by external provider",
                      "Authentication requirement": "Multifactor authentication",
                      "Token issuer type": "ADFederationServices", "Token issuer name": "http://any.sts/16B45E3B",
                      "Conditional Access": "Success"}),
    ])
    # --- credentials.rules ------------------------------------------------
    sp_cred_details = [("User-Agent", "Mozilla/5.0"), ("AppId", MAILSYNC_APP)]
    write("portal-audit-d09-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T03:12:45.8111269Z", "0b1d0009-0000-4000-8000-0000000000c1",
                  "Add service principal credentials", "adele.vance@contoso.com", "192.0.2.10",
                  [("ServicePrincipal", "Contoso MailSync", MAILSYNC_SP,
                    [("KeyDescription", jarr(KEY_OLD), jarr(KEY_OLD, KEY_NEW)),
                     ("Included Updated Properties", "", q("KeyDescription")),
                     ("TargetId.ServicePrincipalNames", "", q(MAILSYNC_APP))])],
                  sp_cred_details),
    ])
    write("portal-audit-d09-msi.csv", AUDIT_HEADER, [
        audit_row("2021-01-12T18:15:02.1497100Z", "0b1d0009-0000-4000-8000-0000000000c2",
                  "Add service principal credentials", "Managed Service Identity", "",
                  [("ServicePrincipal", "contoso-func-billing", "5344064b-4880-4ac4-b216-d9dd08283b9d",
                    [("KeyDescription",
                      jarr("[KeyIdentifier=13bfab89-0a61-4383-9caa-f3aae1728a07,KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=510b1ece-115a-44d0-8406-d0d99b1bddef]"),
                      jarr("[KeyIdentifier=13bfab89-0a61-4383-9caa-f3aae1728a07,KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=510b1ece-115a-44d0-8406-d0d99b1bddef]",
                           "[KeyIdentifier=5307eb93-a828-419e-8bf7-39304bcaf109,KeyType=AsymmetricX509Cert,KeyUsage=Verify,DisplayName=CN=510b1ece-115a-44d0-8406-d0d99b1bddef]")),
                     ("Included Updated Properties", "", q("KeyDescription")),
                     ("TargetId.ServicePrincipalNames", "",
                      q("510b1ece-115a-44d0-8406-d0d99b1bddef;https://identity.azure.net/G+9mHPVJJhpGpNDM/1xQ8QANVKcfjCzsKATW6pty9nu"))])],
                  [("User-Agent", "Microsoft Azure Graph Client Library 2.1.17-internal"),
                   ("AppId", "510b1ece-115a-44d0-8406-d0d99b1bddef")],
                  actor_type="Application", ua="Microsoft Azure Graph Client Library 2.1.17-internal"),
    ])
    write("portal-audit-d10-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T03:12:44.7333393Z", "0b1d0010-0000-4000-8000-0000000000c1",
                  "Update application \u2013 Certificates and secrets management ", "adele.vance@contoso.com",
                  "192.0.2.10",
                  [("Application", "Contoso MailSync", MAILSYNC_OBJ,
                    [("KeyDescription", jarr(KEY_OLD), jarr(KEY_OLD, KEY_NEW)),
                     ("Included Updated Properties", "", q("KeyDescription"))])],
                  sp_cred_details),
    ])
    write("portal-audit-d11-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T03:12:44.7333393Z", "0b1d0011-0000-4000-8000-0000000000c1",
                  "Update application \u2013 Certificates and secrets management ", "adele.vance@contoso.com",
                  "192.0.2.10",
                  [("Application", "Contoso Reports", "0b1d0011-0000-4000-8000-0000000000f1",
                    [("KeyDescription", "[]", jarr(KEY_PW)),
                     ("Included Updated Properties", "", q("KeyDescription"))])],
                  [("User-Agent", "Mozilla/5.0")]),
    ])
    write("portal-audit-d13-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T03:12:44.7333393Z", "0b1d0013-0000-4000-8000-0000000000c1",
                  "Update application \u2013 Certificates and secrets management ", "adele.vance@contoso.com",
                  "192.0.2.10",
                  [("Application", "Contoso MailSync", MAILSYNC_OBJ,
                    [("KeyDescription", jarr(KEY_OLD), jarr(KEY_OLD, KEY_PW)),
                     ("Included Updated Properties", "", q("KeyDescription"))])],
                  sp_cred_details),
    ])
    # --- permissions.rules ------------------------------------------------
    approle = [("User-Agent", "Mozilla/5.0"), ("AppId", MAILSYNC_APP)]
    write("portal-audit-d20-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T03:15:02.1612424Z", "0b1d0020-0000-4000-8000-0000000000c1",
                  "Add app role assignment to service principal", "adele.vance@contoso.com", "192.0.2.10",
                  [("ServicePrincipal", "Microsoft Graph", "bfc299e6-5abc-44a2-b480-6e4828148b5b",
                    [("AppRole.Id", "", q("810c84a8-4a9e-49e6-bf7d-12d183f40d01")),
                     ("AppRole.Value", "", q("Mail.Read")),
                     ("AppRole.DisplayName", "", q("Read mail in all mailboxes")),
                     ("AppRoleAssignment.CreatedDateTime", "", q("2021-01-13T03:15:02.2285321Z")),
                     ("ServicePrincipal.ObjectID", "", q(MAILSYNC_SP))]),
                   ("ServicePrincipal", "Contoso MailSync", MAILSYNC_SP, [])],
                  approle),
    ])
    write("portal-audit-d21-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T03:15:03.9283016Z", "0b1d0021-0000-4000-8000-0000000000c1",
                  "Add app role assignment to service principal", "adele.vance@contoso.com", "192.0.2.10",
                  [("ServicePrincipal", "Office 365 Exchange Online", "05c8520b-3a8b-49ef-8843-73bf1ee0d2d6",
                    [("AppRole.Id", "", q("dc890d15-9560-4a4c-9b7f-a736ec74ec40")),
                     ("AppRole.Value", "", q("full_access_as_app")),
                     ("AppRole.DisplayName", "", q("Use Exchange Web Services with full access to all mailboxes")),
                     ("AppRoleAssignment.CreatedDateTime", "", q("2021-01-13T03:15:03.4383371Z")),
                     ("ServicePrincipal.ObjectID", "", q(MAILSYNC_SP))]),
                   ("ServicePrincipal", "Contoso MailSync", MAILSYNC_SP, [])],
                  approle),
    ])
    consent_perm = ("[] => [[Id: 9tcM02ri5viOVfhdPs26FSlaD6k6eNAuFU2S2xsEbH5, ClientId: " + MAILSYNC_SP +
                    ", PrincipalId: , ResourceId: bfc299e6-5abc-44a2-b480-6e4828148b5b, ConsentType: AllPrincipals,"
                    " Scope:  Mail.Read, CreatedDateTime: , LastModifiedDateTime ]]; ")
    write("portal-audit-d22-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T03:15:04.7497582Z", "0b1d0022-0000-4000-8000-0000000000c1",
                  "Consent to application", "adele.vance@contoso.com", "192.0.2.10",
                  [("ServicePrincipal", "Contoso MailSync", MAILSYNC_SP,
                    [("ConsentContext.IsAdminConsent", "", q("True")),
                     ("ConsentContext.IsAppOnly", "", q("False")),
                     ("ConsentContext.OnBehalfOfAll", "", q("True")),
                     ("ConsentContext.Tags", "", q("WindowsAzureActiveDirectoryIntegratedApp")),
                     ("ConsentAction.Permissions", "", q(consent_perm))])],
                  approle),
    ])
    user_read = ("[] => [[Id: qm2bnx8uxSnhJjeFrK2CrXnwrx5DtVtFlRFCkWnQIuS, ClientId: cadd0f3e-7d97-4579-861d-32c6930ef139,"
                 " PrincipalId: 55560d50-ee9e-4ed4-8dbc-bf5e87c91479, ResourceId: bfc299e6-5abc-44a2-b480-6e4828148b5b,"
                 " ConsentType: Principal, Scope: User.Read, CreatedDateTime: , LastModifiedDateTime ]]; ")
    write("portal-audit-consent-user-read-miss.csv", AUDIT_HEADER, [
        audit_row("2021-01-12T09:47:33.0364193Z", "0b1d0023-0000-4000-8000-0000000000c1",
                  "Consent to application", "isaiah.langer@contoso.com", "2001:db8:4a1:200::1c",
                  [("ServicePrincipal", "Contoso Expenses", "cadd0f3e-7d97-4579-861d-32c6930ef139",
                    [("ConsentContext.IsAdminConsent", "", q("False")),
                     ("ConsentContext.IsAppOnly", "", q("False")),
                     ("ConsentContext.OnBehalfOfAll", "", q("False")),
                     ("ConsentContext.Tags", "", q("WindowsAzureActiveDirectoryIntegratedApp")),
                     ("ConsentAction.Permissions", "", q(user_read))])],
                  [("User-Agent", "Mozilla/5.0")]),
    ])
    write("portal-audit-d27-hit.csv", AUDIT_HEADER, [
        audit_row("2021-01-13T03:20:00.1000000Z", "0b1d0027-0000-4000-8000-0000000000c1",
                  "Add member to role", "adele.vance@contoso.com", "192.0.2.10",
                  [("ServicePrincipal", "Contoso MailSync", MAILSYNC_SP,
                    [("Role.ObjectID", "", q("0b1d0027-0000-4000-8000-0000000000e1")),
                     ("Role.DisplayName", "", q("Global Administrator")),
                     ("Role.TemplateId", "", q("62e90394-69f5-4237-9190-012177145e10")),
                     ("Role.WellKnownObjectName", "", q("TenantAdmins"))])],
                  [("User-Agent", "Mozilla/5.0")], category="RoleManagement"),
    ])

    # --- mail.rules -------------------------------------------------------
    mia = {"CreationTime": "2021-01-13T03:25:33", "Id": "0b1d0031-0000-4000-8000-0000000000c1",
           "Operation": "MailItemsAccessed", "OrganizationId": TENANT, "RecordType": 50, "ResultStatus": "Succeeded",
           "UserKey": "100321CE58DBC63D", "UserType": 0, "Version": 1, "Workload": "Exchange",
           "ClientIP": "192.0.2.10", "UserId": "pradeep.gupta@contoso.com",
           "AppId": "00000003-0000-0000-c000-000000000000", "ClientAppId": MAILSYNC_APP,
           "ClientIPAddress": "192.0.2.10", "ClientInfoString": "Client=REST;Client=RESTSystem;;",
           "ExternalAccess": False, "InternalLogonType": 0, "LogonType": 0,
           "MailboxOwnerUPN": "pradeep.gupta@contoso.com",
           "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "False"}],
           "Folders": [{"Path": "\\Inbox", "FolderItems": [{"InternetMessageId": "<a1@contoso.com>", "SizeInBytes": 5120}]}],
           "OperationCount": 1}
    write("purview-d31-hit.csv", PURVIEW_HEADER, [purview_row(mia)])
    ews = dict(mia, Id="0b1d0032-0000-4000-8000-0000000000c1", CreationTime="2021-01-13T03:37:13",
               ClientIP="192.0.2.77:50312", ClientIPAddress="192.0.2.77", AppId=MAILSYNC_APP,
               ClientInfoString="Client=WebServices;ExchangeWebServices/15.20.3763.012; MailSync/3.4.1")
    write("purview-d32-hit.csv", PURVIEW_HEADER, [purview_row(ews)])
    # --- federation.rules / credentials.rules, UAL CSV shapes ------------
    fed = {"CreationTime": "2021-01-13T02:31:12", "Id": "0b1d0001-0000-4000-8000-0000000000d1",
           "Operation": "Set domain authentication.", "OrganizationId": TENANT, "RecordType": 8,
           "ResultStatus": "Success", "UserType": 0, "Version": 1, "Workload": "AzureActiveDirectory",
           "ObjectId": "contoso.net", "UserId": "it-admin@contoso.onmicrosoft.com",
           "ModifiedProperties": [{"Name": "LiveType", "NewValue": "Federated", "OldValue": "Managed"}],
           "ActorIpAddress": "192.0.2.10", "Target": [{"ID": "contoso.net", "Type": 1}]}
    write("purview-d01-hit.csv", PURVIEW_HEADER, [purview_row(fed)])
    cred = {"CreationTime": "2021-01-13T03:12:44", "Id": "0b1d0010-0000-4000-8000-0000000000d1",
            "Operation": "Update application \u2013 Certificates and secrets management ", "OrganizationId": TENANT,
            "RecordType": 8, "ResultStatus": "Success", "UserType": 0, "Version": 1,
            "Workload": "AzureActiveDirectory", "ObjectId": "Not Available", "UserId": "adele.vance@contoso.com",
            "ModifiedProperties": [{"Name": "KeyDescription",
                                    "NewValue": "[\r\n  \"" + KEY_OLD + "\",\r\n  \"" + KEY_NEW + "\"\r\n]",
                                    "OldValue": "[\r\n  \"" + KEY_OLD + "\"\r\n]"}],
            "ActorIpAddress": "192.0.2.10"}
    write("cmdlet-d10-hit.csv", CMDLET_HEADER, [cmdlet_row(cred, 1, 1)])
    # --- signins.rules ----------------------------------------------------
    ps = {"CreationTime": "2021-01-13T02:27:41", "Id": "0b1d0046-0000-4000-8000-0000000000d1",
          "Operation": "UserLoggedIn", "OrganizationId": TENANT, "RecordType": 15, "ResultStatus": "Success",
          "UserType": 0, "Version": 1, "Workload": "AzureActiveDirectory", "ClientIP": "192.0.2.10",
          "ObjectId": "00000002-0000-0000-c000-000000000000", "UserId": "it-admin@contoso.onmicrosoft.com",
          "ExtendedProperties": [{"Name": "UserAgent", "Value": UA_PS}, {"Name": "RequestType", "Value": "OAuth2:Token"}],
          "ApplicationId": "1b730954-1685-4b74-9bfd-dac224a7b894", "ErrorNumber": "0"}
    write("cmdlet-d46-hit.csv", CMDLET_HEADER, [cmdlet_row(ps, 1, 1)])
    write("InteractiveSignIns_d46-hit.csv", SIGNIN_HEADER, [
        signin_row(**{"Date (UTC)": "2021-01-13T02:27:40Z", "Request ID": "0b1d0046-0000-4000-8000-0000000000c1",
                      "User agent": UA_PS, "Username": "it-admin@contoso.onmicrosoft.com", "User type": "Member",
                      "Application": "Azure Active Directory PowerShell",
                      "Application ID ": "1b730954-1685-4b74-9bfd-dac224a7b894",
                      "Resource": "Windows Azure Active Directory",
                      "Resource ID ": "00000002-0000-0000-c000-000000000000", "IP address": "192.0.2.10",
                      "Status": "Success", "Sign-in error code": "0",
                      "Client app": "Mobile Apps and Desktop clients", "Token issuer type": "AzureAD"}),
    ])


if __name__ == "__main__":
    main()
