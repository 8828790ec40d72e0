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
