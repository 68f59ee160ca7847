"""The tenant admin's configuration pages under /t/<slug>/settings/: assignment groups,
categories and their routing rule, resolution codes, the priority scale and matrix."""
