"""Cubes from event lists and exposure maps: geometry, filters, tile edges, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from sk_clustermass import as_inputs
from sk_clustermass.datasets import (
    cutout_wcs,
    make_cutouts,
    read_events,
    read_exposure_map,
    write_mock_event_files,
)

N_BANDS, SIZE = 10, 50


def _cubes(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.poisson(0.3, (n, N_BANDS, SIZE, SIZE)).astype(np.float32)


@pytest.fixture
def field(tmp_path):
    """Two clusters 1 degree apart, their photons in one event file and map."""
    images = _cubes(2)
    catalog = pd.DataFrame({"ra_deg": [150.0, 151.0], "dec_deg": [2.0, 2.0], "z": [0.2, 0.4]})
    events, expmap = tmp_path / "events.fits", tmp_path / "expmap.fits"
    n = write_mock_event_files(events, expmap, as_inputs(images, catalog["z"]),
                               catalog["ra_deg"], catalog["dec_deg"], random_state=1)
    return images, catalog, events, expmap, n


def _rewrite_events(path, change):
    with fits.open(path) as hdul:
        data = hdul["EVENTS"].data
        table = {name: np.array(data[name]) for name in data.columns.names}
    table = change(table)
    columns = [fits.Column(name, "D" if values.dtype.kind == "f" else "J", array=values)
               for name, values in table.items()]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns, name="EVENTS")]
                 ).writeto(path, overwrite=True)


def test_cutouts_give_back_the_simulated_cubes(field):
    images, catalog, events, expmap, n = field
    X, table = make_cutouts(events, expmap, catalog)
    np.testing.assert_array_equal(X["images"], images)
    np.testing.assert_allclose(X["redshift"], [0.2, 0.4])
    assert table["n_events"].sum() == n == images.sum()
    assert table["coverage"].tolist() == [1.0, 1.0] and not table["partial"].any()
    np.testing.assert_allclose(table["exposure_s"], 1200.0)


def test_cutout_orientation_north_up_east_left():
    wcs = cutout_wcs(150.0, 0.0, image_size=SIZE, pixel_arcsec=24.0)
    ra_right, _ = wcs.pixel_to_world_values(49, 24.5)
    _, dec_top = wcs.pixel_to_world_values(24.5, 49)
    assert ra_right < 150.0 and dec_top > 0.0  # east (larger RA) is left, north is up
    assert abs(dec_top - 24.5 * 24.0 / 3600.0) < 1e-6


def test_time_and_flag_filters(field, tmp_path):
    images, catalog, events, expmap, _ = field

    def flag_half(table):
        table["FLAG"][::2] = 0x10  # a rejected bit of the default mask
        # photons of both clusters at all times (the mock file observes them in turn)
        table["TIME"] = np.random.default_rng(0).permutation(table["TIME"])
        return table

    _rewrite_events(events, flag_half)
    X_flagged, _ = make_cutouts(events, expmap, catalog)
    X_all, _ = make_cutouts(events, expmap, catalog, flag_mask=0)
    np.testing.assert_array_equal(X_all["images"], images)
    assert 0.4 < X_flagged["images"].sum() / images.sum() < 0.6
    X_early, _ = make_cutouts(events, expmap, catalog, flag_mask=0, time_range=(0, 5e3))
    assert 0.4 < X_early["images"].sum() / images.sum() < 0.6
    kept = read_events(events, flag_mask=0, time_range=(0, 5e3))
    assert kept["energy_kev"].between(0.25, 2.3).all()


def test_tile_edge_is_flagged_not_filled(tmp_path, field):
    _images, catalog, events, expmap, _ = field
    with fits.open(expmap) as hdul:
        data, header = hdul[0].data.copy(), hdul[0].header
    wcs = read_exposure_map(expmap).wcs
    x_centre, _ = wcs.world_to_pixel_values(150.0, 2.0)
    data[:, int(x_centre):] = 0.0  # the map stops at the first cluster's centre
    fits.PrimaryHDU(data, header).writeto(expmap, overwrite=True)
    # the photons beyond the edge are removed too, as a real tile would have none there
    _rewrite_events(events, lambda t: {k: v[t["RA"] > 150.0]
                                       for k, v in t.items()})
    X, table = make_cutouts(events, expmap, catalog.iloc[:1])
    assert table["partial"].item() and 0.4 < table["coverage"].item() < 0.6
    assert X["images"][0][:, :, SIZE // 2 + 1:].sum() == 0  # west half: nothing invented
    with pytest.raises(ValueError, match="min_coverage"):
        make_cutouts(events, expmap, catalog.iloc[:1], min_coverage=0.9)


def test_two_overlapping_files_count_each_photon_once(field, tmp_path):
    images, catalog, events, expmap, _ = field
    copy_events, copy_map = tmp_path / "copy_ev.fits", tmp_path / "copy_ex.fits"
    copy_events.write_bytes(events.read_bytes())
    copy_map.write_bytes(expmap.read_bytes())
    X, table = make_cutouts([events, copy_events], [expmap, copy_map], catalog)
    np.testing.assert_array_equal(X["images"], images)
    assert table["n_files"].tolist() == [1, 1]


def test_positions_split_between_two_tiles(tmp_path):
    images = _cubes(2, seed=3)
    inputs = as_inputs(images, [0.3, 0.3])
    paths = []
    for index, ra in enumerate((150.0, 160.0)):
        events, expmap = tmp_path / f"ev{index}.fits", tmp_path / f"ex{index}.fits"
        write_mock_event_files(events, expmap, inputs[index:index + 1], [ra], [2.0],
                               random_state=index)
        paths.append((events, expmap))
    catalog = pd.DataFrame({"ra_deg": [150.0, 160.0], "dec_deg": [2.0, 2.0], "z": [0.3, 0.3]})
    X, _ = make_cutouts([p[0] for p in paths], [p[1] for p in paths], catalog)
    np.testing.assert_array_equal(X["images"], images)


def test_position_outside_every_file(field):
    _, _catalog, events, expmap, _ = field
    far = pd.DataFrame({"ra_deg": [10.0], "dec_deg": [-40.0], "z": [0.3]})
    with pytest.raises(ValueError, match="outside every exposure map"):
        make_cutouts(events, expmap, far)


def test_events_without_needed_columns(field):
    _, catalog, events, expmap, _ = field
    _rewrite_events(events, lambda t: {k: v for k, v in t.items() if k != "PI"})
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['PI'\]"):
        make_cutouts(events, expmap, catalog)
    _rewrite_events(events, lambda t: {k: v for k, v in t.items() if k != "TIME"})
    with pytest.raises(ValueError, match="TIME"):
        read_events(events, time_range=(0, 1))


def test_no_events_extension(tmp_path, field):
    _, catalog, _, expmap, _ = field
    path = tmp_path / "image.fits"
    fits.PrimaryHDU(np.zeros((4, 4))).writeto(path)
    with pytest.raises(ValueError, match="no EVENTS extension"):
        make_cutouts(path, expmap, catalog)


def test_exposure_map_of_another_field_is_refused(field, tmp_path):
    _, catalog, events, _, _ = field
    other_events, other_map = tmp_path / "o_ev.fits", tmp_path / "o_ex.fits"
    write_mock_event_files(other_events, other_map, as_inputs(_cubes(1), [0.3]), [200.0],
                           [-30.0], random_state=0)
    with pytest.raises(ValueError, match="does not match event file"):
        make_cutouts(events, other_map, catalog.assign(ra_deg=[200.0, 200.0],
                                                       dec_deg=[-30.0, -30.2]))


def test_exposure_map_without_wcs(field, tmp_path):
    _, catalog, events, _, _ = field
    path = tmp_path / "nowcs.fits"
    fits.PrimaryHDU(np.ones((10, 10))).writeto(path)
    with pytest.raises(ValueError, match="no celestial WCS"):
        make_cutouts(events, path, catalog)


def test_paired_files_and_catalog_columns(field):
    _, catalog, events, expmap, _ = field
    with pytest.raises(ValueError, match="one exposure map per event file"):
        make_cutouts([events, events], [expmap], catalog)
    with pytest.raises(ValueError, match="no redshift column"):
        make_cutouts(events, expmap, catalog.drop(columns="z"))
    with pytest.raises(ValueError, match="position column"):
        make_cutouts(events, expmap, catalog.drop(columns="ra_deg"))
    with pytest.raises(ValueError, match="band_edges_kev"):
        make_cutouts(events, expmap, catalog, band_edges_kev=[1.0, 0.5])


# ------------------------------------------- cubes that would be empty (issue 27.1)
def test_pi_in_kev_is_refused(field):
    """A PI column in keV read as eV put every photon below the bands: all-zero cubes."""
    _, catalog, events, expmap, _ = field
    _rewrite_events(events, lambda t: dict(t, PI=t["PI"] / 1000.0))
    with pytest.raises(ValueError, match="PI must be in eV"):
        make_cutouts(events, expmap, catalog)


def test_empty_events_table_is_refused(field):
    _, catalog, events, expmap, _ = field
    _rewrite_events(events, lambda t: {k: v[:0] for k, v in t.items()})
    with pytest.raises(ValueError, match="gives no events"):
        make_cutouts(events, expmap, catalog)


@pytest.mark.parametrize("time_range", [(10.0, 5.0), (5.0, 5.0), (0.0, np.nan), (1.0,)])
def test_reversed_or_empty_time_range_is_refused(field, time_range):
    _, catalog, events, expmap, _ = field
    with pytest.raises(ValueError, match="START < STOP"):
        make_cutouts(events, expmap, catalog, flag_mask=0, time_range=time_range)


def test_time_range_without_events_is_refused(field):
    _, catalog, events, expmap, _ = field
    with pytest.raises(ValueError, match="time_range, flag_mask"):
        make_cutouts(events, expmap, catalog, flag_mask=0, time_range=(1e12, 2e12))


def test_cube_without_photons_where_exposure_predicts_some_is_refused(field):
    images, catalog, events, expmap, _ = field
    # the second cluster's photons are missing from the file, its exposure is not
    _rewrite_events(events, lambda t: {k: v[t["RA"] < 150.5] for k, v in t.items()})
    with pytest.raises(ValueError, match="catalogue row 1 has no photon"):
        make_cutouts(events, expmap, catalog)
    X, _ = make_cutouts(events, expmap, catalog.iloc[:1])  # the first is fine
    np.testing.assert_array_equal(X["images"][0], images[0])


# ------------------------------------------- clear messages for slips (issue 27.14)
def test_pi_in_kev_is_refused_when_the_events_are_read(field):
    """read_events took keV for eV silently (every photon at 1/1000 of its energy)."""
    _, _, events, _, _ = field
    _rewrite_events(events, lambda t: dict(t, PI=t["PI"] / 1000.0))
    with pytest.raises(ValueError, match="look like keV, but PI must be in eV"):
        read_events(events)


def test_pi_whose_unit_says_kev_is_converted(field):
    images, catalog, events, expmap, _ = field
    _rewrite_events(events, lambda t: dict(t, PI=t["PI"] / 1000.0))
    with fits.open(events, mode="update") as hdul:
        names = hdul["EVENTS"].columns.names
        hdul["EVENTS"].header[f"TUNIT{names.index('PI') + 1}"] = "keV"
    X, _ = make_cutouts(events, expmap, catalog)
    np.testing.assert_array_equal(X["images"], images)


def test_an_empty_catalogue_is_a_clear_error(field):
    """It failed with numpy's 'need at least one array to stack'."""
    _, catalog, events, expmap, _ = field
    with pytest.raises(ValueError, match="catalogue has no rows"):
        make_cutouts(events, expmap, catalog.iloc[:0])


def test_positions_without_a_value_are_named_by_row(field):
    _, catalog, events, expmap, _ = field
    many = pd.concat([catalog] * 50, ignore_index=True)
    many.loc[99, "ra_deg"] = np.nan  # 1% of the rows
    with pytest.raises(ValueError, match=r"1 of 100 catalogue row\(s\).*first row 99.*dropna"):
        make_cutouts(events, expmap, many)


def test_an_exposure_map_of_infinities_is_refused(field, tmp_path):
    """It read as 'outside every exposure map'."""
    _, catalog, events, expmap, _ = field
    with fits.open(expmap) as hdul:
        header = hdul[0].header.copy()
        data = np.full_like(hdul[0].data, np.inf)
    fits.PrimaryHDU(data, header).writeto(tmp_path / "inf.fits")
    with pytest.raises(ValueError, match="infinite or negative exposure"):
        make_cutouts(events, tmp_path / "inf.fits", catalog)


def test_headers_declaring_more_data_than_the_file_holds_are_refused(field, tmp_path):
    """A NAXIS lie in an exposure map ended in MemoryError (3.6 TiB), in an event file in
    numpy's 'buffer is too small'."""
    _, _, events, expmap, _ = field
    header = fits.getheader(expmap)
    header["NAXIS1"] = header["NAXIS2"] = 10**6
    forged_map = tmp_path / "forged-map.fits"
    forged_map.write_bytes(header.tostring().encode("ascii") + bytes(2880))
    with pytest.raises(ValueError, match="declares an exposure map of 4,000,000,000,000"):
        read_exposure_map(forged_map)
    table = fits.getheader(events, "EVENTS")
    table["NAXIS2"] = 10**10
    forged_events = tmp_path / "forged-events.fits"
    forged_events.write_bytes(fits.PrimaryHDU().header.tostring().encode("ascii")
                              + table.tostring().encode("ascii") + bytes(2880))
    with pytest.raises(ValueError, match="declares an EVENTS table"):
        read_events(forged_events)
