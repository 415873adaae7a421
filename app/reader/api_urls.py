from django.urls import path

from . import api

urlpatterns = [
    path("enrich", api.enrich, name="api-enrich"),
    path("lookup", api.lookup, name="api-lookup"),
    path("vocab", api.vocab_list, name="api-vocab"),
    path("vocab/mark", api.mark, name="api-vocab-mark"),
    path("vocab/import", api.import_words, name="api-vocab-import"),
    path("vocab/export.csv", api.vocab_export, name="api-vocab-export"),
    path("tokens", api.tokens, name="api-tokens"),
    path("tokens/current", api.token_revoke, name="api-token-revoke"),
    path("tokens/<int:token_id>", api.token_revoke, name="api-token-revoke-id"),
]
