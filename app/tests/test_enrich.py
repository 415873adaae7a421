import json

import pytest
from bench.textgen import chinese_page
from reader.models import VocabWord

pytestmark = pytest.mark.django_db

ENRICH = "/api/v1/enrich"


def test_enrich_segments_and_describes_each_word_once(api, alice):
    VocabWord.objects.create(
        user=alice, word="学习", status="known", created_at="2026-11-01T00:00Z",
        updated_at="2026-11-01T00:00Z",
    )  # fmt: skip
    response = api.post(ENRICH, {"texts": ["我喜欢学习中文。", "学习很好"]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["segments"] == [["我", "喜欢", "学习", "中文", "。"], ["学习", "很", "好"]]
    # Punctuation is not a word; 学习 appears twice in the texts but once here.
    assert set(body["words"]) == {"我", "喜欢", "学习", "中文", "很", "好"}
    assert body["words"]["学习"]["status"] == "known"
    assert body["words"]["中文"]["status"] == "unknown"
    entry = body["words"]["喜欢"]["entries"][0]
    assert entry["pinyin"] == "xǐ huan"
    assert entry["pinyin_numbered"] == "xi3 huan5"
    assert entry["glosses"] == ["to like; to be fond of"]
    assert entry["hsk_level"] == 1


def test_enrich_keeps_every_reading(api):
    body = api.post(ENRICH, {"texts": ["好"]}).json()
    readings = [e["pinyin"] for e in body["words"]["好"]["entries"]]
    assert readings == ["hǎo", "hào"]


def test_enrich_traditional_text_finds_entries(api):
    body = api.post(ENRICH, {"texts": ["我們學習漢語"]}).json()
    words = body["words"]
    assert "".join(body["segments"][0]) == "我們學習漢語"
    assert any(e["simplified"] == "学习" for e in words["學習"]["entries"])


def test_enrich_non_chinese_text_has_no_words(api):
    body = api.post(ENRICH, {"texts": ["Hello, world! 123", ""]}).json()
    assert body["words"] == {}
    assert "".join(body["segments"][0]) == "Hello, world! 123"
    assert body["segments"][1] == []


def test_enrich_unknown_word_has_no_entries(api):
    # A made-up name: the segmenter's HMM makes a word that no dictionary has.
    body = api.post(ENRICH, {"texts": ["王小明和李大伟去了北京"]}).json()
    assert body["segments"][0][:3] == ["王小明", "和", "李大伟"]
    assert body["words"]["王小明"] == {"status": "unknown", "entries": []}
    assert body["words"]["北京"]["entries"]


@pytest.mark.parametrize("length", [10, 5000])
def test_enrich_query_count_is_fixed(api, django_assert_num_queries, length):
    text = chinese_page(length)
    assert len(text) == length
    # One query for the token, one for all the words.
    with django_assert_num_queries(2):
        response = api.post(ENRICH, {"texts": [text[: length // 2], text[length // 2 :]]})
    assert response.status_code == 200
    words = response.json()["words"]
    assert len(words) > (500 if length == 5000 else 2)
    assert sum(bool(info["entries"]) for info in words.values()) > 0.9 * len(words)


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        ("[]", "non-empty list of strings"),
        ('{"texts": []}', "non-empty list of strings"),
        ('{"texts": "我喜欢"}', "non-empty list of strings"),
        ('{"texts": [1, 2]}', "non-empty list of strings"),
        ('{"text": ["我"]}', "non-empty list of strings"),
        ("", "not valid JSON"),
        ('{"texts": ["\\ud800好"]}', "unpaired"),
    ],
)
def test_enrich_bad_input_is_a_json_400(api, raw, message):
    response = api.post(ENRICH, raw=raw)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_enrich_accepts_escaped_surrogate_pairs(api):
    body = api.post(ENRICH, raw='{"texts": ["\\ud83d\\ude00\\u5b66\\u4e60"]}').json()
    assert body["segments"] == [["😀", "学习"]]


def test_enrich_oversize_body_is_a_json_413_with_the_limit(api, settings):
    settings.ONEBOX_MAX_ENRICH_BYTES = 1000
    response = api.post(ENRICH, {"texts": ["好" * 400]})
    assert response.status_code == 413
    body = response.json()
    assert body["limit_bytes"] == 1000
    assert "1000 bytes" in body["error"]


def test_enrich_body_over_djangos_own_limit_is_still_a_json_413(api, settings):
    # Larger than DATA_UPLOAD_MAX_MEMORY_SIZE: Django alone would answer an HTML 400.
    body = json.dumps({"texts": ["好" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 3 + 10)]})
    assert len(body.encode()) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api.post(ENRICH, raw=body)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["limit_bytes"] == settings.ONEBOX_MAX_ENRICH_BYTES


def test_enrich_rejects_get(api):
    response = api.get(ENRICH)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_enrich_reports_server_timing(api):
    response = api.post(ENRICH, {"texts": ["我喜欢学习中文"]})
    assert "segment;dur=" in response["Server-Timing"]


def test_a_known_token_costs_one_query_and_is_still_checked(api, alice, django_assert_num_queries):
    from reader.models import ApiToken

    api.post(ENRICH, {"texts": ["我学习中文"]})  # the token is checked, then remembered
    # One query: the statuses, the dictionary release and the token's validity together.
    with django_assert_num_queries(1):
        assert api.post(ENRICH, {"texts": ["我学习中文"]}).status_code == 200
    with django_assert_num_queries(1):
        assert api.post("/api/v1/lookup", {"words": ["中文"]}).status_code == 200
    # Revoked behind this worker's back (another worker, a password change): refused at once.
    ApiToken.objects.filter(user=alice).delete()
    assert api.post(ENRICH, {"texts": ["我学习中文"]}).status_code == 401
    assert api.post(ENRICH, {"texts": ["我学习中文"]}).status_code == 401


def test_a_known_token_of_a_deactivated_user_is_refused(api, alice):
    assert api.post(ENRICH, {"texts": ["中文"]}).status_code == 200
    alice.is_active = False
    alice.save()
    assert api.post(ENRICH, {"texts": ["中文"]}).status_code == 401
