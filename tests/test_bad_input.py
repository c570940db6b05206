"""Every bad-input case of tests/bad_input_cases.py gets a clear error."""

from __future__ import annotations

import pytest

from tests import bad_input_cases as report

CASES = report.input_cases() + report.regressor_cases() + report.transformer_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.entry}: {c.what}")
def test_bad_input_gets_a_clear_error(case):
    clear, detail = report.run_case(case)
    assert clear, detail


def test_bad_files_get_a_clear_error(tmp_path):
    for case in report.reader_cases(tmp_path):
        clear, detail = report.run_case(case)
        assert clear, f"{case.entry}: {case.what}: {detail}"


def test_hostile_files_and_destinations_get_a_clear_error(tmp_path):
    """Issue 19's cases: special files, a second writer, damaged or crafted models, ..."""
    cases = report.safety_cases(tmp_path)
    assert len(cases) >= 10
    for case in cases:
        clear, detail = report.run_case(case)
        assert clear, f"{case.entry}: {case.what}: {detail}"


def test_real_data_mistakes_get_a_clear_error(tmp_path):
    """Issues 16 and 27: event lists and maps that cannot give cubes, or only empty ones."""
    cases = report.real_data_cases(tmp_path)
    assert len(cases) >= 8
    for case in cases:
        clear, detail = report.run_case(case)
        assert clear, f"{case.entry}: {case.what}: {detail}"


def test_issue_27_round_three_cases_are_handled(tmp_path):
    """Issue 27 (7, 9, 13, 14): sizes refused before allocation, long names, crafted or
    downgraded model files, real-data slips; each case clear or working as it should."""
    from tests.bad_input_limits import limit_cases

    cases = limit_cases(tmp_path)
    assert len(cases) >= 15
    for case in cases:
        clear, detail = report.run_case(case)
        assert clear, f"{case.entry}: {case.what}: {detail}"
