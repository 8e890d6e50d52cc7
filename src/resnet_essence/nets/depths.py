"""The depths of the 6n+2 network family (He et al. 2016, §4.2), without torch: the config check
uses the rule too."""

from __future__ import annotations


def blocks_per_stage(depth: int) -> int:
    """n for a 6n + 2 network; ValueError naming the depth when it has no such form."""
    if depth < 8 or (depth - 2) % 6 != 0:
        raise ValueError(f"depth={depth} is not of the form 6n+2 with n >= 1 (8, 14, 20, 26, ...)")
    return (depth - 2) // 6
