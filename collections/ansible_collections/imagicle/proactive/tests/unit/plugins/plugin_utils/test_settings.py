# -*- coding: utf-8 -*-
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cases callback's options as the evaluate action and the state-store modules read them: read once per
environment, and read again when the environment changes."""

from __future__ import annotations

from ansible.plugins import loader

from ansible_collections.imagicle.proactive.plugins.plugin_utils import settings


def test_the_store_is_read_once_and_again_when_the_environment_changes(monkeypatch, tmp_path):
    loads = []
    real_get = loader.callback_loader.get

    def counting_get(*args, **kwargs):
        loads.append(args[0])
        return real_get(*args, **kwargs)

    monkeypatch.setattr(loader.callback_loader, "get", counting_get)
    first, second = str(tmp_path / "first.sqlite"), str(tmp_path / "second.sqlite")
    monkeypatch.setenv("IMAGICLE_STATE_STORE", first)
    assert settings.store_url(None) == first
    assert settings.store_url(None) == first
    assert loads == [settings.CALLBACK]  # the second time from what was read
    monkeypatch.setenv("IMAGICLE_STATE_STORE", second)
    assert settings.store_url(None) == second
    assert settings.store_url("explicit.sqlite") == "explicit.sqlite"
    monkeypatch.setenv("IMAGICLE_STATE_STORE", first)
    assert settings.store_url(None) == first
    assert len(loads) == 2
