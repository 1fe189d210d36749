from django.apps import AppConfig


class DataioConfig(AppConfig):
    """The import/export framework (export_data, import_data); each app registers its own specs."""

    name = "ask.dataio"
    label = "dataio"
    verbose_name = "Import and export"
