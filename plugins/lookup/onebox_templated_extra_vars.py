"""Lookup onebox_templated_extra_vars: which of the given names came with -e as a template.

ansible-core 2.19 trusts every -e value as a template, in each form (key=value, JSON/YAML, a
@file): `-e vault_postgres_password='x{{ 7*7 }}'` is used as x49. By the time a task reads the
variable it has been rendered, so this lookup reads the -e values as Ansible parsed them
(ansible.utils.vars.load_extra_vars, cached in the process), before rendering. A value marked
`!unsafe` in a -e @file is not trusted as a template and is not reported.

    lookup('onebox_templated_extra_vars', *names, wantlist=True) -> the names, in the order
    given, whose -e value is a string holding template markers ({{, {% or {#) that Ansible
    would render.
"""

from __future__ import annotations

import re

from ansible.plugins.lookup import LookupBase
from ansible.template import is_trusted_as_template
from ansible.utils.vars import load_extra_vars

TEMPLATE_MARKERS = re.compile(r"\{[{%#]")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        extra_vars = load_extra_vars(self._loader)
        return [
            name
            for name in terms
            if isinstance(extra_vars.get(name), str)
            and TEMPLATE_MARKERS.search(extra_vars[name])
            and is_trusted_as_template(extra_vars[name])
        ]
