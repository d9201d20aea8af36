"""Tests of envtrace.i18n (labels of briefs and maps in Chinese and English)."""

from __future__ import annotations

from envtrace import i18n


def test_every_label_exists_in_both_languages():
    assert set(i18n.LABELS["zh"]) == set(i18n.LABELS["en"])
    for key, zh in i18n.LABELS["zh"].items():
        assert zh and i18n.LABELS["en"][key], key


def test_label_lookup_and_fallbacks():
    assert i18n.label("p_value", "en") == "p-value"
    assert i18n.label("p_value", "zh") == "显著性 p 值"
    assert i18n.label("no_such_key", "en") == "no_such_key"
    assert i18n.category_label("odour", "zh") == "异味" and i18n.category_label("odour", "en") == "Odour"
    assert i18n.category_label("unheard_of", "en") == "unheard_of"
    assert i18n.colour_label("red", "en").startswith("Red")
    # the event p-value says what it tests, so a city-wide burst with p ≈ 1 is not misread
    assert "space-time" in i18n.label("event_p_value", "en")
