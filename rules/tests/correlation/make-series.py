#!/usr/bin/env python3
"""Generate the correlation test series in this directory (rules/correlation.rules
and tests/unit/test_corr_*.c use them). Run from anywhere: python3 make-series.py.
Every record is composed: fictional tenant, documentation addresses except the
public UNC2452 spray address used by the sample tenant."""
import json, os
from datetime import datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
USERS = ["megan.bowen", "pradeep.gupta", "lee.gu", "joni.sherman", "diego.siciliani",
         "johanna.lorenz", "lidia.holloway", "grady.archie", "alex.wilber", "nestor.wilke",
         "adele.vance", "isaiah.langer"]


def ts(t, frac=""):
    return t.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def signin(n, t, user, ip, code=50126, frac=""):
    return {"id": "si-%04d" % n, "createdDateTime": ts(t, frac), "userPrincipalName": user + "@contoso.com",
            "appId": "4765445b-32c6-49b0-83e6-1d93765276ca", "appDisplayName": "OfficeHome", "ipAddress": ip,
            "status": {"errorCode": code, "failureReason": "Invalid username or password" if code else None}}


def mail(n, t, owner, app_id, client_app, ip, info, count=1):
    return {"CreationTime": t.strftime("%Y-%m-%dT%H:%M:%S"), "Id": "mia-%04d" % n, "Operation": "MailItemsAccessed",
            "OrganizationId": "cae660e6-b456-4b35-b35f-12f2ad07a0a4", "RecordType": 50, "ResultStatus": "Succeeded",
            "UserId": owner + "@contoso.com", "Workload": "Exchange", "ClientIPAddress": ip, "AppId": app_id,
            "ClientAppId": client_app, "ClientInfoString": info, "MailboxOwnerUPN": owner + "@contoso.com",
            "MailboxGuid": "00000000-0000-0000-0000-%012d" % (USERS.index(owner) + 1), "OperationCount": count}


def write(name, records):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(records, f, indent=1)
        f.write("\n")


SPRAY_IP = "13.59.205.66"
GRAPH = "00000003-0000-0000-c000-000000000000"
MAILSYNC = "e79f1579-db86-4475-8741-eb6f312c4ff4"

# Password spray: 6 accounts from one address in 9 minutes, across an hour boundary.
t0 = datetime(2021, 1, 13, 2, 55, 0)
write("spray-hit.json", [signin(i, t0 + timedelta(seconds=100 * i), USERS[i], SPRAY_IP) for i in range(6)] +
      [signin(90, t0, "megan.bowen", "198.51.100.23", code=0)])
# Not a spray: one address fails 6 times on 4 accounts; 5 accounts fail from 5 addresses.
write("spray-miss.json", [signin(i, t0 + timedelta(seconds=60 * i), USERS[i % 4], SPRAY_IP) for i in range(6)] +
      [signin(10 + i, t0 + timedelta(seconds=30 * i), USERS[i], "203.0.113.%d" % (10 + i)) for i in range(5)])
# Window edge: the 5th account fails exactly 30 minutes after the first (inside),
# or 100 ns later (outside).
edge = [signin(i, t0 + timedelta(minutes=5 * i), USERS[i], SPRAY_IP) for i in range(4)]
write("spray-edge-inside.json", edge + [signin(4, t0 + timedelta(minutes=30), USERS[4], SPRAY_IP)])
write("spray-edge-outside.json", edge + [signin(4, t0 + timedelta(minutes=30), USERS[4], SPRAY_IP, frac=".0000001")])

# Brute force on one account: 10 failures in 9 minutes across midnight.
t1 = datetime(2021, 1, 13, 23, 55, 30)
write("bruteforce-hit.json", [signin(i, t1 + timedelta(seconds=60 * i), "lee.gu", "192.0.2.%d" % (10 + i % 3)) for i in range(10)])
# 10 failures over 11 minutes (never 10 within 10 minutes), and a success in between.
write("bruteforce-miss.json", [signin(i, t1 + timedelta(seconds=73 * i), "lee.gu", "192.0.2.10") for i in range(10)] +
      [signin(50, t1 + timedelta(minutes=3), "lee.gu", "192.0.2.10", code=0)])

# An application reads six mailboxes through Graph in seven minutes.
t2 = datetime(2021, 1, 13, 3, 24, 10)
write("mailbox-burst-hit.json", [mail(i, t2 + timedelta(seconds=83 * i), USERS[i], GRAPH, MAILSYNC, "54.193.127.66",
                                      "Client=REST;Client=RESTSystem;;") for i in range(6)])
# Four mailboxes through EWS, and a user reading their own mailbox many times.
write("mailbox-burst-miss.json", [mail(i, t2 + timedelta(seconds=71 * i), USERS[i], MAILSYNC, MAILSYNC, "192.0.2.77",
                                       "Client=WebServices;ExchangeWebServices/15.20.3763.012; MailSync/3.4.1") for i in range(4)] +
      [mail(20 + i, t2 + timedelta(seconds=20 * i), "megan.bowen", "00000002-0000-0ff1-ce00-000000000000",
            "00000002-0000-0ff1-ce00-000000000000", "198.51.100.23", "Client=OWA;Action=ViaProxy") for i in range(8)])

# Mail volume against the application's own baseline (baseline 7d, 10 x the
# largest hourly sum of the first week, at least 500). A week of modest
# volume: every 6 hours 30 to 60 items, at most 60 in any hour.
t3 = datetime(2021, 1, 6, 0, 10, 0)
week = [mail(100 + i, t3 + timedelta(hours=6 * i), USERS[i % 12], GRAPH, MAILSYNC, "192.0.2.77",
             "Client=REST;Client=RESTSystem;;", count=30 + (i * 7) % 31) for i in range(28)]
# Day 8: 4 x 300 items within 30 minutes, 20 x the week's largest hour.
t4 = datetime(2021, 1, 13, 3, 24, 10)
burst = [mail(200 + i, t4 + timedelta(minutes=10 * i), USERS[i], GRAPH, MAILSYNC, "54.193.127.66",
              "Client=REST;Client=RESTSystem;;", count=300) for i in range(4)]
write("mail-baseline-hit.json", week + burst)
# The same burst, but the baseline week already had one as large (day 3).
busy = [mail(300 + i, datetime(2021, 1, 8, 14, 0, 0) + timedelta(minutes=10 * i), USERS[i], GRAPH, MAILSYNC,
             "54.193.127.66", "Client=REST;Client=RESTSystem;;", count=300) for i in range(4)]
write("mail-baseline-busy-miss.json", week + busy + burst)
# The burst comes from an application that had no activity in the baseline week.
OTHER = "5f2a0c3e-7d41-4b8e-9a6c-2e1b0d9f8c7a"
write("mail-baseline-new-app-miss.json", week + [dict(r, ClientAppId=OTHER, Id="mia-new-%d" % i) for i, r in enumerate(burst)])
