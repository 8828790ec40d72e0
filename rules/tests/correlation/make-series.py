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


# ---- records of the rules added with full-extent bursts ----------------------
# The UAL copy of a sign-in (AuditData, RecordType 15), one second after the
# Entra record, as samples/tenant writes it: the twin the correlator counts once.
TENANT = "cae660e6-b456-4b35-b35f-12f2ad07a0a4"
OFFICEHOME = "4765445b-32c6-49b0-83e6-1d93765276ca"


def ual_login(n, t, user, ip, ok=False, session=None):
    d = {"CreationTime": t.strftime("%Y-%m-%dT%H:%M:%S"), "Id": "ual-%04d" % n,
         "Operation": "UserLoggedIn" if ok else "UserLoginFailed", "OrganizationId": TENANT, "RecordType": 15,
         "ResultStatus": "Success" if ok else "Failed", "UserKey": "1003%012d@contoso.onmicrosoft.com" % n,
         "UserType": 0, "Version": 1, "Workload": "AzureActiveDirectory", "ClientIP": ip,
         "ObjectId": "00000002-0000-0ff1-ce00-000000000000", "UserId": user + "@contoso.com",
         "ApplicationId": OFFICEHOME, "ErrorNumber": "0" if ok else "50126",
         "DeviceProperties": [{"Name": "OS", "Value": "Windows 10"}]}
    if not ok:
        d["LogonError"] = "InvalidUserNameOrPassword"
    if session:
        d["DeviceProperties"].append({"Name": "SessionId", "Value": session})
    return d


def signin_ok(n, t, user, ip, session=None, interactive=True):
    d = signin(n, t, user, ip, code=0)
    d["sessionId"] = session or ""
    d["isInteractive"] = interactive
    return d


def twins(n, t, user, ip):
    """A failed sign-in in both logs."""
    return [signin(n, t, user, ip), ual_login(n, t + timedelta(seconds=1), user, ip)]


# Initial access: six accounts sprayed from one address (each failure in the
# sign-in log and the UAL), then one of them signs in from it 10 minutes later.
t5 = datetime(2021, 1, 13, 2, 14, 7)
spray6 = sum((twins(400 + i, t5 + timedelta(seconds=37 * i), USERS[i], SPRAY_IP) for i in range(6)), [])
success = [signin_ok(420, t5 + timedelta(minutes=10), "grady.archie", SPRAY_IP, session="s-420"),
           ual_login(420, t5 + timedelta(minutes=10, seconds=1), "grady.archie", SPRAY_IP, ok=True, session="s-420")]
write("spray-then-success-hit.json", spray6 + success)
# Look-alikes: the success comes before the fifth account fails; a success
# from another address; four accounts failing twice (UAL + Entra: 8 records,
# 4 accounts); a success more than an hour after the first failure.
early = sum((twins(430 + i, t5 + timedelta(seconds=37 * i), USERS[i], "192.0.2.30") for i in range(5)), [])
early.insert(8, signin_ok(439, t5 + timedelta(seconds=37 * 3 + 10), "megan.bowen", "192.0.2.30"))
four = sum((twins(440 + i, t5 + timedelta(seconds=37 * i), USERS[i], "192.0.2.31") for i in range(4)), []) + \
    [signin_ok(449, t5 + timedelta(minutes=5), USERS[0], "192.0.2.31")]
late = sum((twins(450 + i, t5 + timedelta(seconds=37 * i), USERS[i], "192.0.2.32") for i in range(5)), []) + \
    [signin_ok(459, t5 + timedelta(hours=1, seconds=1), USERS[0], "192.0.2.32")]
other = spray6[:] + [signin_ok(469, t5 + timedelta(minutes=10), "grady.archie", "198.51.100.23")]
write("spray-then-success-miss.json", early + four + late + other)

# Brute force then success: one account fails 10 times from one address, then
# signs in. The miss: 5 failures, each in both logs (10 records, 5 attempts).
t6 = datetime(2021, 1, 13, 23, 55, 30)
write("bruteforce-then-success-hit.json",
      [signin(500 + i, t6 + timedelta(seconds=40 * i), "lee.gu", "192.0.2.40") for i in range(10)] +
      [signin_ok(520, t6 + timedelta(minutes=8), "lee.gu", "192.0.2.40")])
write("bruteforce-then-success-miss.json",
      sum((twins(530 + i, t6 + timedelta(seconds=40 * i), "lee.gu", "192.0.2.41") for i in range(5)), []) +
      [signin_ok(540, t6 + timedelta(minutes=8), "lee.gu", "192.0.2.41")] +
      [signin(550 + i, t6 + timedelta(seconds=40 * i), "lee.gu", "192.0.2.42") for i in range(10)] +
      [signin_ok(560, t6 + timedelta(minutes=8), "nestor.wilke", "192.0.2.42")])


# A new address shared by accounts. Two baseline days (2021-01-10, -11) in
# which the office egress 198.51.100.23 serves five users every day; then,
# from day 3, the egress again (six users) and a new address used by three
# accounts over four days: two sign-ins and a directory change.
def audit(n, t, activity, actor, ip, target_upn, target_id):
    return {"id": "Directory_%04d" % n, "category": "UserManagement", "correlationId": "c-%04d" % n,
            "result": "success", "activityDisplayName": activity, "activityDateTime": ts(t),
            "loggedByService": "Core Directory", "operationType": "Update",
            "initiatedBy": {"user": {"userPrincipalName": actor + "@contoso.com", "ipAddress": ip}},
            "targetResources": [{"id": target_id, "type": "User", "userPrincipalName": target_upn + "@contoso.com",
                                 "displayName": None}]}


def ual_reset(n, t, actor, ip, target_upn, target_id):
    return {"CreationTime": t.strftime("%Y-%m-%dT%H:%M:%S"), "Id": "ual-%04d" % n,
            "Operation": "Reset user password.", "OrganizationId": TENANT, "RecordType": 8,
            "ResultStatus": "Success", "UserKey": "1003%012d@contoso.onmicrosoft.com" % n, "UserType": 0,
            "Version": 1, "Workload": "AzureActiveDirectory", "ObjectId": "Not Available",
            "UserId": actor + "@contoso.com", "ActorIpAddress": ip,
            "Target": [{"ID": "User_" + target_id, "Type": 2}, {"ID": target_id, "Type": 2},
                       {"ID": "User", "Type": 2}, {"ID": target_upn + "@contoso.com", "Type": 5}]}


EGRESS = "198.51.100.23"
base = []
for d in range(2):
    for i in range(5):
        base.append(signin_ok(600 + 10 * d + i, datetime(2021, 1, 10 + d, 8, 5 * i, 0), USERS[i], EGRESS))
after = [signin_ok(650 + i, datetime(2021, 1, 14, 8, 3 * i, 0), USERS[i], EGRESS) for i in range(6)]
new3 = [signin_ok(670, datetime(2021, 1, 13, 3, 50, 19), "adele.vance", "192.0.2.77"),
        ual_login(670, datetime(2021, 1, 13, 3, 50, 20), "adele.vance", "192.0.2.77", ok=True),
        signin_ok(671, datetime(2021, 1, 14, 8, 41, 0), "megan.bowen", "192.0.2.77", interactive=False),
        audit(672, datetime(2021, 1, 16, 9, 12, 0), "Reset user password", "lee.gu", "192.0.2.77", "nestor.wilke",
              "00000000-0000-0000-0000-000000000672")]
write("new-address-hit.json", base + after + new3)
# Look-alikes: the same three accounts from the egress known from the
# baseline; the new address used by two accounts (one of them in both logs);
# failures do not count.
write("new-address-miss.json", base + after +
      [signin_ok(680, datetime(2021, 1, 13, 3, 50, 19), "adele.vance", "192.0.2.78"),
       ual_login(680, datetime(2021, 1, 13, 3, 50, 20), "adele.vance", "192.0.2.78", ok=True),
       signin_ok(681, datetime(2021, 1, 14, 8, 41, 0), "megan.bowen", "192.0.2.78"),
       signin(682, datetime(2021, 1, 15, 8, 41, 0), "lee.gu", "192.0.2.78")])

# One session from two addresses: the CEO signs in from home, and 36 minutes
# later her session is used from the attacker's address (non-interactive
# sign-in, and the UAL's UserLoggedIn with the same DeviceProperties SessionId).
t7 = datetime(2021, 1, 13, 8, 5, 33)
SESSION = "70903e3b-03e7-4733-a97f-9b4e224be273"
write("session-hit.json",
      [signin_ok(700, t7, "megan.bowen", "203.0.113.34", session=SESSION),
       ual_login(700, t7 + timedelta(seconds=1), "megan.bowen", "203.0.113.34", ok=True, session=SESSION),
       signin_ok(701, t7 + timedelta(minutes=36), "megan.bowen", "192.0.2.77", session=SESSION, interactive=False)])
write("session-hit-ual.json",
      [ual_login(702, t7, "megan.bowen", "203.0.113.34", ok=True, session=SESSION),
       ual_login(703, t7 + timedelta(minutes=36), "megan.bowen", "192.0.2.77", ok=True, session=SESSION)])
# Look-alikes: one session from one address in both logs; two sessions of one
# user from two addresses; the session from a second address two hours later.
write("session-miss.json",
      [signin_ok(710, t7, "megan.bowen", "203.0.113.34", session="s-710"),
       ual_login(710, t7 + timedelta(seconds=1), "megan.bowen", "203.0.113.34", ok=True, session="s-710"),
       signin_ok(711, t7 + timedelta(minutes=5), "megan.bowen", "198.51.100.23", session="s-711"),
       signin_ok(712, t7 + timedelta(hours=2), "megan.bowen", "192.0.2.77", session="s-710", interactive=False)])

# Bulk password resets: it-admin resets five accounts in four minutes (the
# Entra record and its UAL copy each). The miss: four accounts, each in both
# logs (8 records, 4 accounts); five resets by two administrators.
t8 = datetime(2021, 1, 13, 9, 12, 0)
resets5 = []
for i in range(5):
    tid = "00000000-0000-0000-0000-%012d" % (800 + i)
    resets5 += [audit(800 + i, t8 + timedelta(seconds=50 * i), "Reset user password", "it-admin", "192.0.2.77",
                      USERS[i], tid),
                ual_reset(800 + i, t8 + timedelta(seconds=50 * i + 1), "it-admin", "192.0.2.77", USERS[i], tid)]
write("bulk-resets-hit.json", resets5)
write("bulk-resets-miss.json", resets5[:8] +
      [audit(820 + i, t8 + timedelta(seconds=50 * i), "Reset user password", "alex.wilber" if i % 2 else "lee.gu",
             "198.51.100.23", USERS[6 + i], "00000000-0000-0000-0000-%012d" % (820 + i)) for i in range(5)])
