# SPDX-License-Identifier: MIT
"""The documentation stays true: the README's configuration reference and
the example file are what the configuration table generates, and the
example, uncommented, is a valid configuration."""

import os
import re
import subprocess
import tempfile

from stack import ROOT, binary

CTL = binary("mpbindctl")


def generated(command):
    return subprocess.run([CTL, command], capture_output=True, text=True, check=True).stdout


def test_the_readme_lists_every_option_as_the_table_does():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    section = re.search(r"<!-- config-reference[^\n]*\n(.*?)<!-- /config-reference -->", readme, re.S)
    assert section and section.group(1) == generated("config-reference"), \
        "README.md's configuration reference is stale: paste `bin/mpbindctl config-reference`"


def test_the_example_file_is_current_and_valid():
    with open(os.path.join(ROOT, "scripts", "mpbind.conf.example")) as f:
        example = f.read()
    assert example == generated("config-example"), \
        "scripts/mpbind.conf.example is stale: run `bin/mpbindctl config-example > scripts/mpbind.conf.example`"
    with tempfile.TemporaryDirectory() as d:
        keys = os.path.join(d, "tickets.key")
        subprocess.run([CTL, "keygen", keys, "k1"], check=True, capture_output=True)
        conf = os.path.join(d, "mpbind.conf")
        lines = [l[1:] if re.match(r"#[a-z_.]+ = ", l) else l for l in example.splitlines()]
        with open(conf, "w") as f:
            f.write("\n".join(lines).replace("ticket.keys = var/keys/tickets.key", f"ticket.keys = {keys}") + "\n")
        os.chmod(conf, 0o600)
        r = subprocess.run([binary("mpbind-fcgi"), "-c", conf, "--check-config"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
