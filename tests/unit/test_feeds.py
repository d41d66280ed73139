"""The feed registry validates itself and says what is wrong, naming the feed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.feeds import REGISTRY_PATH, RegistryError, load_registry, registry, staging_id_column


def _broken(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(REGISTRY_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "feeds.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_project_registry_declares_the_seven_feeds_of_the_spec() -> None:
    reg = registry()
    assert list(reg.feeds) == ["hukou", "residence_permit", "education", "social_insurance", "tax", "marriage",
                               "property"]
    assert reg.feeds["hukou"].encoding == "gb18030"
    assert reg.feeds["residence_permit"].encoding == "utf-8-sig"
    assert reg.feeds["marriage"].formats == ("xlsx", "csv")
    assert reg.feeds["tax"].natural_key == ("id_type", "id_number", "income_period", "income_item",
                                            "agent_credit_code")
    assert [staging_id_column(c) for c in reg.feeds["property"].id_columns] == ["owner_citizen_id"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["feeds"]["tax"].update(natural_key=["nope"]), "feed 'tax': natural_key names unknown column"),
        (lambda d: d["feeds"]["hukou"]["columns"][3].update(codes="no_such_list"), "unknown code list"),
        (lambda d: d["feeds"]["education"]["columns"][1].update(header="学籍号"), "header '学籍号' declared twice"),
        (lambda d: d["feeds"]["marriage"].pop("sheet"), "xlsx feeds must name their sheet"),
        (lambda d: d["feeds"]["property"].pop("id_type_column"), "need id_type_column"),
        (lambda d: d["feeds"]["hukou"].update(kind="stream"), "kind"),
        (lambda d: d["feeds"]["hukou"]["columns"][0].update(name="CitizenID"), "not snake_case"),
        (lambda d: d["feeds"]["tax"].update(trust=1), "trust 1 is shared"),
        (lambda d: d["feeds"]["hukou"].update(period_column="birth_date"), "period_column must be a date"),
        (lambda d: d["feeds"]["tax"].update(period_column="income_amount"), "period_column must be a date"),
    ],
)
def test_a_broken_registry_is_refused_with_a_clear_message(tmp_path: Path, change, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        load_registry(_broken(tmp_path, change))
