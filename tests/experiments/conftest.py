"""Fixtures of the experiment-engine tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def riverswim():
    from mdpkit.envs import riverswim

    return riverswim
