"""The population names: the lab's population ('efeds_lab', formerly 'efeds') is not the
eFEDS-like sky ('efeds_survey'); old names keep working."""

from __future__ import annotations

import numpy as np
import pytest

from sk_clustermass.cli import build_parser
from sk_clustermass.simulate import LAB_POPULATIONS, get_survey, make_clusters


def _clusters(**kwargs):
    return make_clusters(6, random_state=5, chunk_size=64, return_catalog=True, **kwargs)


def test_lab_name_is_the_former_name_and_the_default():
    X_lab, y_lab, _ = _clusters(survey="efeds_lab")
    for other in (_clusters(survey="efeds"), _clusters(), _clusters(survey="EFEDS_LAB")):
        np.testing.assert_array_equal(other[0]["images"], X_lab["images"])
        np.testing.assert_array_equal(other[1], y_lab)
    sky = _clusters(survey="efeds_survey")
    assert not np.array_equal(sky[1], y_lab)  # the preset is another population


def test_lab_names_give_their_survey_depth():
    assert LAB_POPULATIONS == {"efeds_lab": "efeds", "erass1_lab": "erass1"}
    assert get_survey("efeds_lab") is get_survey("efeds")
    assert get_survey("eRASS1_lab").exposure_vignetted_s == 200.0


def test_unknown_names_list_the_lab_names():
    with pytest.raises(ValueError, match="efeds_lab"):
        make_clusters(2, survey="efeds_lba")


@pytest.mark.parametrize("given, expected", [("efeds_lab", "efeds_lab"), ("efeds", "efeds_lab"),
                                             ("ERASS1", "erass1_lab"),
                                             ("efeds_survey", "efeds_survey")])
def test_command_line_accepts_new_and_former_names(given, expected):
    args = build_parser().parse_args(["simulate", "-n", "2", "-o", "x.h5", "--survey", given])
    assert args.survey == expected


def test_command_line_defaults_are_documented(capsys):
    parser = build_parser()
    assert parser.parse_args(["simulate", "-n", "2", "-o", "x.h5"]).survey == "efeds_lab"
    assert parser.parse_args(["demo"]).survey == "efeds_survey"
    with pytest.raises(SystemExit):
        parser.parse_args(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "{efeds_lab,erass1_lab,efeds_survey,erass1_survey}" in text
    assert "(default: efeds_lab)" in text and "formerly named efeds and erass1" in text
    with pytest.raises(SystemExit):
        parser.parse_args(["simulate", "-n", "2", "-o", "x.h5", "--survey", "efeds_sky"])
    assert "invalid choice 'efeds_sky'" in capsys.readouterr().err
