import pytest
from reader.pinyin import numbered_to_marks


@pytest.mark.parametrize(
    "numbered, marked",
    [
        ("hao3", "hǎo"),
        ("hao4", "hào"),
        ("xi3 huan5", "xǐ huan"),
        ("Zhong1 guo2", "Zhōng guó"),
        ("nu:3", "nǚ"),
        ("lu:e4", "lüè"),
        ("gui4", "guì"),  # last vowel of iu/ui
        ("liu2", "liú"),
        ("dou1", "dōu"),  # o of ou
        ("xue2", "xué"),  # e wins over u
        ("er4", "èr"),
        ("m2", "ḿ"),  # syllabic nasal
        ("ng2", "ńg"),
        ("r5", "r"),
        ("E4", "È"),
        ("san1 C", "sān C"),  # letters in headwords pass through
        ("yi1 , er4", "yī , èr"),
        ("xx5", "xx"),
    ],
)
def test_numbered_to_marks(numbered, marked):
    assert numbered_to_marks(numbered) == marked
