import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "id" / "LC_MESSAGES" / "django.po"


def test_the_indonesian_catalogue_has_no_untranslated_or_fuzzy_entries():
    text = CATALOGUE.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first block is the header

    untranslated = [entry for entry in entries if re.search(r'^msgstr(\[0\])? ""\n(?!")', entry + "\n", re.M)]
    assert untranslated == []
    assert "#, fuzzy" not in text


def test_the_compiled_catalogue_is_used():
    with translation.override("id"):
        assert translation.gettext("Region registry") == "Daftar wilayah"
        assert translation.gettext("Disbursed") == "Disalurkan"
