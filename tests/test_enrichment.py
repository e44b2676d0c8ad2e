import pytest

from loader.identity import temporary_company_id


@pytest.mark.parametrize(
    ("name", "salt", "expected"),
    [
        # enrichment.md step 5 test vectors (names already normalised)
        ("测试公司", "default_dev_salt_change_in_prod", "ING7QPWNUWOQ2FKJN2"),
        ("完全未知的公司名称XYZ", "default_dev_salt_change_in_prod", "IN664TCNY36SCVAYO7"),
        ("测试公司", "test_salt", "IN3H5PYVAW56KNGCVA"),
    ],
)
def test_temporary_id_matches_the_spec_vectors(name, salt, expected):
    assert temporary_company_id(name, salt) == expected


def test_temporary_id_shape():
    value = temporary_company_id("某公司", "s")
    assert len(value) == 18 and value.startswith("IN")
    assert set(value[2:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
