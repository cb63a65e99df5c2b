#!/usr/bin/env python3
"""Binding vectors for Shepherd's Snap Store client, made by pymacaroons.

Each case is a root macaroon and a discharge, serialized as the Snap Store
and Ubuntu One SSO hand them out, and the discharge bound to the root by
pymacaroons' own `root.prepare_for_request(discharge)` — what snapcraft
(through craft-store) sends in `Authorization: Macaroon root=…, discharge=…`.

    python3 gen_pymacaroons_vector.py              # the fixed cases (the committed vector)
    python3 gen_pymacaroons_vector.py --random 40 --seed 7   # random cases

Output is JSON on stdout. Everything is deterministic: fixed keys, fixed
nonces for the third-party caveats' encrypted keys, and a seeded RNG.
Needs pymacaroons (Debian: python3-pymacaroons; PyPI: pymacaroons).
"""

import json
import random
import sys

import pymacaroons
from pymacaroons import Macaroon, MACAROON_V1, MACAROON_V2
from pymacaroons.serializers.binary_serializer import BinarySerializer

SSO = "login.ubuntu.com"
STORE = "api.snapcraft.io"


def pair(version, root_key, caveat_key, caveat_id, root_caveats, discharge_caveats, nonce):
    root = Macaroon(location=STORE, identifier="root-" + caveat_id, key=root_key, version=version)
    for c in root_caveats:
        root.add_first_party_caveat(c)
    root.add_third_party_caveat(SSO, caveat_key, caveat_id, nonce=nonce)
    discharge = Macaroon(location=SSO, identifier=caveat_id, key=caveat_key, version=version)
    for c in discharge_caveats:
        discharge.add_first_party_caveat(c)
    return root, discharge


def case(name, root_text, discharge_text):
    root = Macaroon.deserialize(root_text)
    discharge = Macaroon.deserialize(discharge_text)
    bound = root.prepare_for_request(discharge).serialize()
    return {
        "name": name,
        "root": root_text,
        "discharge": discharge_text,
        "bound": bound,
        "header": "Macaroon root={}, discharge={}".format(root_text, bound),
    }


def without_header_location(v2_text):
    """The same v2 macaroon with no location field in its header, as
    libmacaroons writes one whose location is empty."""
    raw = BinarySerializer().deserialize(v2_text).serialize()  # normalised first
    data = pymacaroons.utils.raw_urlsafe_b64decode(raw)
    assert data[0] == 2 and data[1] == 1  # version, then field 1 (location)
    loc_len = data[2]
    stripped = bytes([2]) + data[3 + loc_len:]
    return pymacaroons.utils.raw_urlsafe_b64encode(stripped).decode("ascii")


def fixed_cases():
    store_caveats = [
        'api.snapcraft.io|valid_since|2026-11-01T00:00:00Z',
        'api.snapcraft.io|expires|2027-11-01T00:00:00Z',
        'api.snapcraft.io|acl|["package_access", "package_release"]',
        'api.snapcraft.io|package_id|["shY22YTZ3RhJJDOj0MfmShTNZTEb1Jiq"]',
    ]
    sso_caveats = [
        "login.ubuntu.com|account|eyJ1c2VybmFtZSI6ICJzaGVwaGVyZC1ib3QifQ",
        "login.ubuntu.com|valid_since|2026-11-28T09:00:00.000000",
        "login.ubuntu.com|last_auth|2026-11-28T09:00:00.000000",
        "login.ubuntu.com|expires|2026-11-29T09:00:00.000000",
    ]
    nonce = bytes(range(24))
    cases = []
    for version, tag in ((MACAROON_V1, "v1"), (MACAROON_V2, "v2")):
        root, discharge = pair(version, "store root key", "sso caveat key",
                               "sso-caveat-0001", store_caveats, sso_caveats, nonce)
        cases.append(case(tag + " store pair", root.serialize(), discharge.serialize()))
        bare_root, bare_discharge = pair(version, "k", "ck", "c", [], [], nonce)
        cases.append(case(tag + " no first-party caveats", bare_root.serialize(),
                          bare_discharge.serialize()))
    v1_root, v1_discharge = pair(MACAROON_V1, "store root key", "sso caveat key",
                                 "sso-caveat-0002", store_caveats, sso_caveats, nonce)
    cases.append(case("v1 with base64 padding", v1_root.serialize() + "==",
                      v1_discharge.serialize() + "=="))
    v2_root, v2_discharge = pair(MACAROON_V2, "store root key", "sso caveat key",
                                 "sso-caveat-0003", store_caveats, sso_caveats, nonce)
    cases.append(case("v2 discharge without a header location", v2_root.serialize(),
                      without_header_location(v2_discharge.serialize())))
    cases.append(case("v2 discharge under a v1 root", v1_root.serialize(),
                      v2_discharge.serialize()))
    return cases


def random_cases(n, seed):
    rng = random.Random(seed)
    word = lambda k: "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789|:-_ ")
                             for _ in range(rng.randint(1, k)))
    cases = []
    for i in range(n):
        version = rng.choice((MACAROON_V1, MACAROON_V2))
        root, discharge = pair(
            version, word(40), word(40), word(60),
            [word(120) for _ in range(rng.randint(0, 6))],
            [word(200) for _ in range(rng.randint(0, 6))],
            bytes(rng.randrange(256) for _ in range(24)),
        )
        cases.append(case("random {} v{}".format(i, version), root.serialize(),
                          discharge.serialize()))
    return cases


def main(argv):
    if len(argv) >= 2 and argv[1] == "--random":
        n = int(argv[2])
        seed = int(argv[4]) if len(argv) >= 5 and argv[3] == "--seed" else 0
        cases = random_cases(n, seed)
    else:
        cases = fixed_cases()
    json.dump({
        "generator": "adapters/src/snapstore/testdata/gen_pymacaroons_vector.py",
        "pymacaroons": getattr(pymacaroons, "__version__", "unknown"),
        "python": sys.version.split()[0],
        "cases": cases,
    }, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
