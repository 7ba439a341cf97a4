"""A real OpenLDAP server (Debian's `slapd`) playing an Active Directory domain: the directory-sync tests'
server and `make run`'s demo domain.

`LdapServer` starts its own slapd: a generated `slapd.conf` (`-f`), the AD-like schema of `ad.schema` beside
this file, an mdb database, StartTLS on the plain port and LDAPS on a second one with a server certificate
for 127.0.0.1/localhost signed by a CA generated once per directory (`ca_file`, the sandbox's
`ensure_certificates`), the memberof overlay, and slapd's built-in simple paged results control. Tests give
it a temp dir and free ports; `make run` a directory under `.data` (kept: a restart finds the same domain)
and fixed ports. It is stopped by PID.

What slapd does not do like AD, `AdDirectory` (the test's stand-in for a domain controller's writers) does:
- `uSNChanged` / `uSNCreated`: AD stamps every originating write with the DC's next update sequence number.
  OpenLDAP has no such counter (its `entryCSN` is a replication stamp, not an integer), so every write made
  through `AdDirectory` takes the next number from one counter per server and stamps it, as AD would. Like
  AD, changing a group's `member` bumps the group's uSNChanged, not the members'.
- `whenChanged` / `whenCreated`: set on the same writes (GeneralizedTime, UTC, seconds).
- `objectGUID`: 16 random bytes, stored as AD stores them (the first three fields little-endian).
- `memberOf`: maintained by slapd's memberof overlay from the groups' `member` values (AD's backlink).
Deletions come two ways: `delete` removes the entry (the connector notices on a full pass), and
`delete_like_ad` does what AD does — the object becomes a tombstone under `CN=Deleted Objects` with
`isDeleted: TRUE`, its `lastKnownParent`, its objectGUID and a new uSNChanged, stripped of the rest; AD
shows it only to a search with the show-deleted control, which slapd ignores (it is sent non-critical).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ldap3

from bench.servers import free_port
from connectors.sandbox.common.tls import ensure_certificates

SLAPD = "/usr/sbin/slapd"
SCHEMA = Path(__file__).with_name("ad.schema")
SYSTEM_SCHEMA = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")

BASE_DN = "dc=firm,dc=test"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PASSWORD = "admin-secret"  # noqa: S105 - root of a local dev/test server, never a real domain
USERS_DN = f"ou=Staff,{BASE_DN}"
GROUPS_DN = f"ou=Groups,{BASE_DN}"
SERVICE_DN = f"cn=firmsync-sync,ou=Service Accounts,{BASE_DN}"
DELETED_OBJECTS_DN = f"cn=Deleted Objects,{BASE_DN}"
SERVICE_PASSWORD = "Sync-Account-Pa55"  # noqa: S105 - the local demo/test service account
UF_ACCOUNTDISABLE = 0x2
UF_NORMAL_ACCOUNT = 0x200
GLOBAL_SECURITY_GROUP = -2147483646  # ADS_GROUP_TYPE_GLOBAL_GROUP | ADS_GROUP_TYPE_SECURITY_ENABLED


def _config(directory: Path, ca: Path, cert: Path, key: Path, root_dse: Path | None) -> str:
    schemas = [SYSTEM_SCHEMA / f"{name}.schema" for name in ("core", "cosine", "inetorgperson")]
    includes = "\n".join(f"include {path}" for path in [*schemas, SCHEMA])
    extra = f"rootDSE {root_dse}\n" if root_dse else ""
    return f"""{includes}
{extra}modulepath {MODULES}
moduleload back_mdb
moduleload memberof
pidfile {directory}/slapd.pid
argsfile {directory}/slapd.args
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
sizelimit size.soft=500 size.hard=unlimited size.prtotal=unlimited
database mdb
maxsize 268435456
suffix "{BASE_DN}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {directory}/data
index objectClass eq
index uSNChanged eq
index objectGUID eq
overlay memberof
memberof-group-oc group
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint true
# The sync's service account reads the directory, like a domain user; nobody else reads anything.
access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by dn.exact="{SERVICE_DN}" read
    by * none
"""


class LdapServer:
    """slapd on 127.0.0.1: `port` (ldap://, StartTLS) and `ldaps_port` (ldaps://).

    `root_dse`: attributes slapd adds to its rootDSE (fixed for the server's life), e.g. AD's
    `dsServiceName` and `highestCommittedUSN`, to play a DC that publishes them.
    """

    def __init__(
        self,
        root_dse: dict[str, str] | None = None,
        *,
        directory: Path | None = None,
        port: int | None = None,
        ldaps_port: int | None = None,
    ) -> None:
        if not os.access(SLAPD, os.X_OK):
            raise RuntimeError(f"{SLAPD} is missing: `make slapd` installs Debian's slapd")
        self.temporary = directory is None
        self.directory = Path(tempfile.mkdtemp(prefix="firmsync-slapd-")) if directory is None else directory
        fresh = not (self.directory / "data" / "data.mdb").exists()
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        tls = ensure_certificates(self.directory / "tls")
        self.ca_file = tls.ca_cert
        config = self.directory / "slapd.conf"
        dse_file = None
        if root_dse:
            dse_file = self.directory / "rootdse.ldif"
            dse_file.write_text("dn:\n" + "".join(f"{k}: {v}\n" for k, v in root_dse.items()))
        config.write_text(_config(self.directory, tls.ca_cert, tls.server_cert, tls.server_key, dse_file))
        self.port, self.ldaps_port = port or free_port(), ldaps_port or free_port()
        self.log = (self.directory / "slapd.log").open("ab")
        urls = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.ldaps_port}/"
        # `-d 0`: stay in the foreground (this PID is the server's), logging nothing but fatal errors.
        self.proc = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", str(config), "-h", urls],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait()
        self.directory_writer = AdDirectory(self)
        if fresh:
            self.directory_writer.seed()
        else:
            self.directory_writer.resume()

    base_dn = BASE_DN
    users_dn = USERS_DN
    groups_dn = GROUPS_DN
    service_dn = SERVICE_DN
    service_password = SERVICE_PASSWORD

    def _wait(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"slapd exited with {self.proc.returncode}: {(self.directory / 'slapd.log').read_text()}"
                )
            for port in (self.port, self.ldaps_port):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                except OSError:
                    break
            else:
                return
            time.sleep(0.1)
        raise TimeoutError("slapd did not start listening")

    def new_tree(self) -> AdTree:
        """A fresh OU with its own Staff and Groups OUs: one test's corner of the domain."""
        return self.directory_writer.new_tree()

    def config(self, tree: AdTree, role_mappings: list[dict], **overrides) -> dict:
        """An ActiveDirectoryConfig body for `tree`: LDAPS verified against this server's CA."""
        return {
            "host": "127.0.0.1",
            "port": self.ldaps_port,
            "use_ssl": True,
            "start_tls": False,
            "ca_bundle": str(self.ca_file),
            "base_dn": BASE_DN,
            "user_search_base": tree.users_dn,
            "group_search_base": tree.groups_dn,
            "bind_dn": SERVICE_DN,
            "role_mappings": role_mappings,
            **overrides,
        }

    def stop(self) -> None:
        self.directory_writer.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        if self.temporary:
            shutil.rmtree(self.directory, ignore_errors=True)


def generalized_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S.0Z")


class AdDirectory:
    """Writes to the test domain the way a domain controller would record them (see the module docstring)."""

    def __init__(self, server: LdapServer) -> None:
        self.server = server
        self.usn = 12000  # a fresh DC's counter is well past zero already
        self.connection = ldap3.Connection(
            ldap3.Server("127.0.0.1", port=server.port, get_info=ldap3.NONE),
            user=ADMIN_DN,
            password=ADMIN_PASSWORD,
            auto_bind=True,
            raise_exceptions=True,
        )

    def close(self) -> None:
        self.connection.unbind()

    def resume(self) -> None:
        """A restarted server: go on from the highest uSNChanged written so far (a DC never reuses one)."""
        entries = self.connection.extend.standard.paged_search(
            BASE_DN, "(uSNChanged=*)", attributes=["uSNChanged"], paged_size=500, generator=True
        )
        for entry in entries:
            values = entry.get("attributes", {}).get("uSNChanged")
            if values:
                self.usn = max(self.usn, int(values[0] if isinstance(values, list) else values))

    def _stamp(self, created: bool = False) -> dict[str, str]:
        self.usn += 1
        now = generalized_time(dt.datetime.now(dt.UTC))
        stamp = {"uSNChanged": str(self.usn), "whenChanged": now}
        if created:
            stamp |= {"uSNCreated": str(self.usn), "whenCreated": now}
        return stamp

    def seed(self) -> None:
        self.connection.add(BASE_DN, ["dcObject", "organization"], {"dc": "firm", "o": "Firm Test"})
        for ou in ("Staff", "Groups", "Service Accounts", "Contractors"):
            self.connection.add(f"ou={ou},{BASE_DN}", ["organizationalUnit"], {"ou": ou})
        self.connection.add(DELETED_OBJECTS_DN, ["container"], {"cn": "Deleted Objects", "isDeleted": "TRUE"})
        self.connection.add(
            SERVICE_DN,
            ["user"],
            {
                "cn": "firmsync-sync",
                "sn": "firmsync-sync",
                "sAMAccountName": "svc-firmsync",
                "userPassword": SERVICE_PASSWORD,
                "objectGUID": uuid.uuid4().bytes_le,
                "userAccountControl": str(UF_NORMAL_ACCOUNT),
                **self._stamp(created=True),
            },
        )

    def new_tree(self) -> AdTree:
        dn = f"ou=t{uuid.uuid4().hex[:10]},{BASE_DN}"
        self.connection.add(dn, ["organizationalUnit"], {"ou": dn.split(",")[0][3:]})
        for ou in ("Staff", "Groups"):
            self.connection.add(f"ou={ou},{dn}", ["organizationalUnit"], {"ou": ou})
        return AdTree(self, dn)

    def add_user(
        self,
        sam: str,
        given: str,
        surname: str,
        *,
        mail: str | None = None,
        upn: str | None = None,
        disabled: bool = False,
        ou: str = USERS_DN,
        guid: uuid.UUID | None = None,
    ) -> str:
        dn = f"cn={given} {surname},{ou}"
        attributes = {
            "cn": f"{given} {surname}",
            "sn": surname,
            "givenName": given,
            "displayName": f"{given} {surname}",
            "sAMAccountName": sam,
            "userPrincipalName": upn or f"{sam}@firm.test",
            "objectGUID": (guid or uuid.uuid4()).bytes_le,
            "userAccountControl": str(UF_NORMAL_ACCOUNT | (UF_ACCOUNTDISABLE if disabled else 0)),
            **self._stamp(created=True),
        }
        if mail:
            attributes["mail"] = mail
        self.connection.add(dn, ["user"], attributes)
        return dn

    def add_group(self, name: str, members: Iterable[str] = (), *, ou: str = GROUPS_DN) -> str:
        dn = f"cn={name},{ou}"
        attributes = {
            "cn": name,
            "sAMAccountName": name,
            "objectGUID": uuid.uuid4().bytes_le,
            "groupType": str(GLOBAL_SECURITY_GROUP),
            "description": f"{name} group",
            **self._stamp(created=True),
        }
        if members := list(members):
            attributes["member"] = members
        self.connection.add(dn, ["group"], attributes)
        return dn

    def modify(self, dn: str, **values: str | list[str] | None) -> None:
        """Replace attributes (None deletes one), stamped with the next USN."""
        changes = {
            name: [
                (ldap3.MODIFY_REPLACE, [] if value is None else value if isinstance(value, list) else [value])
            ]
            for name, value in values.items()
        }
        for name, value in self._stamp().items():
            changes[name] = [(ldap3.MODIFY_REPLACE, [value])]
        self.connection.modify(dn, changes)

    def set_disabled(self, dn: str, disabled: bool) -> None:
        control = UF_NORMAL_ACCOUNT | (UF_ACCOUNTDISABLE if disabled else 0)
        self.modify(dn, userAccountControl=str(control))

    def add_member(self, group_dn: str, member_dn: str) -> None:
        changes = {"member": [(ldap3.MODIFY_ADD, [member_dn])]}
        for name, value in self._stamp().items():
            changes[name] = [(ldap3.MODIFY_REPLACE, [value])]
        self.connection.modify(group_dn, changes)

    def remove_member(self, group_dn: str, member_dn: str) -> None:
        changes = {"member": [(ldap3.MODIFY_DELETE, [member_dn])]}
        for name, value in self._stamp().items():
            changes[name] = [(ldap3.MODIFY_REPLACE, [value])]
        self.connection.modify(group_dn, changes)

    def delete(self, dn: str) -> None:
        self.usn += 1  # AD spends a USN on the deletion too
        self.connection.delete(dn)

    def delete_like_ad(self, dn: str) -> str:
        """Delete as AD does: a tombstone `CN=<name>\\0ADEL:<guid>` in Deleted Objects keeping the objectGUID,
        `isDeleted`, `lastKnownParent` and a new uSNChanged. Returns the tombstone's DN."""
        raw = self.read(dn, "objectGUID", "objectClass", "cn")
        guid = uuid.UUID(bytes_le=raw["objectGUID"][0])
        classes = [c.decode() for c in raw["objectClass"]]
        name = raw["cn"][0].decode()
        self.connection.delete(dn)  # slapd's memberof overlay drops it from groups, as AD drops the links
        tombstone = f"cn={name}\\0ADEL:{guid},{DELETED_OBJECTS_DN}"
        attributes = {
            "cn": f"{name}\nDEL:{guid}",
            "objectGUID": guid.bytes_le,
            "isDeleted": "TRUE",
            "lastKnownParent": dn.split(",", 1)[1],
            **self._stamp(),
        }
        if "user" in classes:
            attributes["sn"] = name
        self.connection.add(tombstone, ["user" if "user" in classes else "group"], attributes)
        return tombstone

    def read(self, dn: str, *attributes: str) -> dict:
        self.connection.search(dn, "(objectClass=*)", ldap3.BASE, attributes=list(attributes) or ["*", "+"])
        return self.connection.response[0]["raw_attributes"]


@dataclass
class AdTree:
    """Users under `ou=Staff,<dn>`, groups under `ou=Groups,<dn>`; every write goes through `directory`."""

    directory: AdDirectory
    dn: str

    @property
    def users_dn(self) -> str:
        return f"ou=Staff,{self.dn}"

    @property
    def groups_dn(self) -> str:
        return f"ou=Groups,{self.dn}"

    def add_user(self, sam: str, given: str, surname: str, **kwargs) -> str:
        return self.directory.add_user(sam, given, surname, ou=self.users_dn, **kwargs)

    def add_users(self, count: int, prefix: str = "bulk") -> list[str]:
        return [self.add_user(f"{prefix}{i:04d}", "Bulk", f"User {i:04d}") for i in range(count)]

    def add_group(self, name: str, members: Iterable[str] = ()) -> str:
        return self.directory.add_group(name, members, ou=self.groups_dn)

    def __getattr__(self, name: str):
        return getattr(self.directory, name)


# ---- make run's demo domain

DEMO_DN = f"ou=Demo Company,{BASE_DN}"
DEMO_EMAIL_DOMAIN = "firmsync.example"
# (sAMAccountName, given name, surname, groups, disabled): the demo firm's people as its directory has them.
DEMO_PEOPLE = (
    ("mpatel", "Maya", "Patel", ("Firmsync Partners",), False),
    ("jchen", "James", "Chen", ("Firmsync Managers",), False),
    ("sgarcia", "Sofia", "Garcia", ("Firmsync Staff",), False),
    ("onowak", "Oskar", "Nowak", ("Firmsync Staff",), False),
    ("lmoreau", "Lea", "Moreau", ("Firmsync Billing",), False),
    ("tkowalski", "Tom", "Kowalski", ("Firmsync Staff",), True),  # left the firm: disabled in AD
    ("rintern", "Riley", "Intern", (), False),  # in no mapped group: not provisioned
)
DEMO_ROLES = {
    "Firmsync Partners": "partner",
    "Firmsync Managers": "manager",
    "Firmsync Staff": "staff",
    "Firmsync Billing": "billing",
}


def seed_demo_domain(server: LdapServer) -> dict:
    """The demo firm's corner of the domain (once; a restarted server already has it) and the connection body
    (`config`, `credentials`) that syncs it: LDAPS, verified against the server's CA."""
    writer = server.directory_writer
    tree = AdTree(writer, DEMO_DN)
    try:
        writer.connection.search(DEMO_DN, "(objectClass=*)", ldap3.BASE)
        exists = bool(writer.connection.entries)
    except ldap3.core.exceptions.LDAPNoSuchObjectResult:
        exists = False
    if not exists:
        writer.connection.add(DEMO_DN, ["organizationalUnit"], {"ou": "Demo Company"})
        for ou in ("Staff", "Groups"):
            writer.connection.add(f"ou={ou},{DEMO_DN}", ["organizationalUnit"], {"ou": ou})
        members: dict[str, list[str]] = {group: [] for group in DEMO_ROLES}
        for sam, given, surname, groups, disabled in DEMO_PEOPLE:
            mail = f"{given}.{surname}@{DEMO_EMAIL_DOMAIN}".lower()
            dn = tree.add_user(sam, given, surname, mail=mail, disabled=disabled)
            for group in groups:
                members[group].append(dn)
        for group, dns in members.items():
            tree.add_group(group, dns)
    mappings = [
        {"group_dn": f"cn={group},{tree.groups_dn}", "role": role} for group, role in DEMO_ROLES.items()
    ]
    return {
        "config": server.config(tree, mappings),
        "credentials": {"password": server.service_password},
    }
