#!/usr/bin/env python3
"""Write the record series the entra-m365 correlation tests read (synthetic,
documentation addresses). Run from this directory: python3 make-series.py"""
import json

def ual(i, t, op, user, target, ip='203.0.113.99', rt=6, **extra):
    r = {"CreationTime": t, "Id": f"em-series-{op}-{user.split('@')[0]}-{i}", "Operation": op, "RecordType": rt,
         "Workload": "SharePoint", "UserId": user, "ClientIP": ip, "ObjectId": target}
    r.update(extra)
    return r

def minute(m, s=0):
    return f"2024-03-06T15:{m:02d}:{s:02d}"

def write(name, records):
    with open(name, 'w') as fh:
        json.dump(records, fh, indent=0)
        fh.write('\n')

site = "https://contoso.sharepoint.com/sites/finance/Shared Documents/"
# 120 different files in 6 minutes: one hit.
write('mass-download-hit.json', [ual(i, minute(i // 20, i % 20), 'FileDownloaded', 'cfo@contoso.com', f'{site}f{i}.xlsx') for i in range(120)])
# 150 downloads of only 30 different files, and 99 files of another user: no hit.
write('mass-download-miss.json',
      [ual(i, minute(i // 30, i % 30), 'FileDownloaded', 'cfo@contoso.com', f'{site}f{i % 30}.xlsx') for i in range(150)] +
      [ual(i, minute(i // 20, i % 20), 'FileSyncDownloadedFull', 'lee.gu@contoso.com', f'{site}g{i}.docx') for i in range(99)])
ops = ['FileDeleted', 'FileRecycled', 'FileDeletedFirstStageRecycleBin', 'FolderDeleted']
write('mass-delete-hit.json', [ual(i, minute(i // 25, i % 25), ops[i % 4], 'cfo@contoso.com', f'{site}d{i}') for i in range(110)])
# 100 deletions spread over 20 minutes (50 per 10 minutes): no hit.
write('mass-delete-miss.json', [ual(i, minute(i // 5, (i % 5) * 10), 'FileDeleted', 'cfo@contoso.com', f'{site}d{i}') for i in range(100)])
mail = lambda i, t, op: {"CreationTime": t, "Id": f"em-series-mail-{i}", "Operation": op, "RecordType": 2, "Workload": "Exchange",
                         "UserId": "ceo@contoso.com", "MailboxOwnerUPN": "ceo@contoso.com", "ClientIPAddress": "203.0.113.99",
                         "Folder": {"Path": "\\Inbox"}}
write('mass-mail-delete-hit.json', [mail(i, minute(i // 10, i % 10), ['HardDelete', 'SoftDelete', 'MoveToDeletedItems'][i % 3]) for i in range(60)])
write('mass-mail-delete-miss.json', [mail(i, minute(i, 0), 'SoftDelete') for i in range(49)])

# Entra portal sign-in CSV exports (InteractiveSignIns_*.csv), one file per rule:
# the header of the portal's download, one row per case.
PORTAL_HEADER = ["Date (UTC)", "Request ID", "User agent", "Correlation ID", "User ID", "User", "Username", "User type",
                 "Cross tenant access type", "Incoming token type", "Authentication Protocol", "Unique token identifier",
                 "Original transfer method", "Client credential type", "Application", "Application ID ", "Resource",
                 "Resource ID ", "IP address", "Location", "Status", "Sign-in error code", "Failure reason", "Client app",
                 "Operating System", "Authentication requirement", "Conditional Access"]


def portal(name, rows):
    import csv, hashlib
    with open(name, 'w', newline='', encoding='utf-8') as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator='\r\n')
        w.writerow(PORTAL_HEADER)
        for i, r in enumerate(rows):
            row = {"Date (UTC)": f"2024-03-05T10:{i:02d}:00Z", "Request ID": f"6d1c0c1e-0000-4000-8000-{hashlib.md5(name.encode()).hexdigest()[:8]}{i:04d}",
                   "User agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0", "Correlation ID": f"c0{i:06d}-0000-4000-8000-000000000000",
                   "User": "Lee Gu", "Username": "lee.gu@contoso.com", "User type": "Member", "Authentication Protocol": "none",
                   "Original transfer method": "none", "Application": "OfficeHome", "Application ID ": "4765445b-32c6-49b0-83e6-1d93765276ca",
                   "Resource": "Office 365 Exchange Online", "IP address": "203.0.113.99", "Location": "Columbus, Ohio, US",
                   "Status": "Failure", "Client app": "Browser", "Operating System": "Windows 10",
                   "Authentication requirement": "Single-factor authentication", "Conditional Access": "Not Applied"}
            row.update(r)
            w.writerow([row.get(k, "") for k in PORTAL_HEADER])


fail = lambda code, reason: {"Status": "Failure", "Sign-in error code": code, "Failure reason": reason}
portal('InteractiveSignIns_em-blocked-by-ca.csv', [fail("53003", "Access has been blocked by Conditional Access policies.")])
portal('InteractiveSignIns_em-account-locked.csv', [fail("50053", "Account is locked.")])
portal('InteractiveSignIns_em-disabled-account.csv', [dict(fail("50057", "User account is disabled."), Username="former@contoso.com")])
portal('InteractiveSignIns_em-mfa-denied.csv', [fail("500121", "Authentication failed during strong authentication request.")])
portal('InteractiveSignIns_em-legacy-failed.csv', [dict(fail("50126", "Invalid username or password."), **{"Client app": "IMAP4"})])
portal('InteractiveSignIns_em-ropc.csv', [{"Status": "Success", "Sign-in error code": "0", "Authentication Protocol": "ropc",
                                            "Client app": "Other clients", "User agent": "python-requests/2.31.0"}])
portal('InteractiveSignIns_em-device-code.csv', [{"Status": "Success", "Sign-in error code": "0", "Authentication Protocol": "deviceCode",
                                                   "Original transfer method": "deviceCodeFlow", "Application": "Microsoft Azure CLI",
                                                   "Application ID ": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"}])
portal('InteractiveSignIns_em-recon-user-agent.csv', [{"Status": "Success", "Sign-in error code": "0", "User agent": "roadtx/1.0"}])
