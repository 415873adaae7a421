from django.contrib import admin

from .models import ApiToken, DictionaryRelease, Entry, VocabWord


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ["simplified", "traditional", "pinyin", "hsk_level"]
    search_fields = ["simplified", "traditional", "pinyin_numbered"]
    list_filter = ["hsk_level"]


@admin.register(VocabWord)
class VocabWordAdmin(admin.ModelAdmin):
    list_display = ["word", "status", "user", "updated_at"]
    list_filter = ["status"]
    search_fields = ["word", "user__username"]
    raw_id_fields = ["user"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    # The hash is useless to read and the raw token is never stored: show the hint only.
    list_display = ["hint", "user", "created_at"]
    fields = ["user", "hint", "created_at"]
    readonly_fields = ["user", "hint", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(DictionaryRelease)
class DictionaryReleaseAdmin(admin.ModelAdmin):
    list_display = ["checksum", "entries", "headwords", "hsk_standard", "loaded_at"]
