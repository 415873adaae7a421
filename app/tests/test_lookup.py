import pytest

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/lookup"


def test_lookup_several_words_including_unknown_ones(api, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = api.post(LOOKUP, {"words": ["行", "銀行", "hello", "龘龘龘龘", "行"]})
    assert response.status_code == 200
    words = response.json()["words"]
    assert set(words) == {"行", "銀行", "hello", "龘龘龘龘"}
    assert [e["pinyin"] for e in words["行"]["entries"]] == ["háng", "xíng"]
    assert words["銀行"]["entries"][0]["simplified"] == "银行"
    assert words["hello"] == {"status": "unknown", "entries": []}
    assert words["龘龘龘龘"] == {"status": "unknown", "entries": []}


def test_lookup_lists_simplified_form_matches_before_traditional_ones(api):
    # 著 is the simplified form of 著 (zhù) and the traditional form of 着.
    entries = api.post(LOOKUP, {"words": ["著"]}).json()["words"]["著"]["entries"]
    assert entries[0]["simplified"] == "著"
    assert {e["simplified"] for e in entries[1:]} == {"着"}


def test_lookup_puts_proper_nouns_after_common_words(api):
    entries = api.post(LOOKUP, {"words": ["张"]}).json()["words"]["张"]["entries"]
    assert entries[0]["pinyin"] == "zhāng"
    assert entries[-1]["pinyin"] == "Zhāng"


def test_lookup_escapes_odd_words_into_valid_json(api):
    odd = ['引"号', "反\\斜", "换\n行", "\u2028", "空\x00字"]
    words = api.post(LOOKUP, {"words": odd}).json()["words"]
    assert set(words) == {'引"号', "反\\斜", "\u2028"}


@pytest.mark.parametrize("body", [{}, {"words": []}, {"words": "行"}, {"words": [None]}])
def test_lookup_bad_input_is_400(api, body):
    assert api.post(LOOKUP, body).status_code == 400


def test_lookup_too_many_words_is_400(api):
    response = api.post(LOOKUP, {"words": ["行"] * 5001})
    assert response.status_code == 400
    assert "5000" in response.json()["error"]


def test_the_dictionary_map_answers_as_postgresql_does(api, alice):
    # The memory-mapped copy (reader.dictmap) against the SQL lookup on a page of words.
    import json

    from bench.textgen import chinese_page
    from reader import segmenter
    from reader.lookup import words_json, words_json_mapped
    from reader.models import VocabWord
    from reader.vocab import upsert

    words = set(segmenter.segment(chinese_page(3000))) | {"學習", "龘龘", "hello", "a\\b"}
    upsert(alice, {"学习": "learning", "中文": "known"})
    mapped = json.loads(words_json_mapped(alice.id, words))
    assert mapped == json.loads(words_json(alice.id, words))
    assert mapped["学习"]["status"] == "learning" and mapped["學習"]["entries"]
    assert VocabWord.objects.filter(user=alice).count() == 2
