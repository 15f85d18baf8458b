"""The service plugin contract.

A service is a package under `services/` registered in the entry-point group
`madoguchi.services`. The core loads the plugins the deployment lists (configuration
`SERVICES`, default all installed), checks their type and namespacing, mounts each
blueprint at `/services/<name>/`, and serves it only to municipalities whose settings
enable it (`settings["services"]`). Disabling a service for one city touches no other.

Hooks a plugin may override (all optional, all called by the core only):

- `blueprint()`      → the Flask blueprint; its name must equal the plugin name.
- `models_module`    → import path of the plugin's models; their tables must start with
                       `<name>_` and they join the shared metadata.
- `migrations_dir()` → folder of the plugin's own Alembic history (branch label = name).
- `menu_items(viewer)` → entries for the resident's or staff's menu, or [].
- `cli()`            → a click group mounted as `madoguchi <name> ...`, or None.
- `metric_label(metric)` → the translated name of a usage metric the service records
                       beyond the common ones (see portal/operator/views_usage.py), or None.
- `public_endpoints` → endpoint names served without a signed-in viewer (public pages, a
                       terminal API with its own authentication); the view itself must then
                       establish the municipality and check the service is enabled there.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterable

import click
from flask import Blueprint

from portal.db import Base

ENTRY_POINT_GROUP = "madoguchi.services"


class PluginError(RuntimeError):
    """A plugin breaks the contract; the deployment refuses to start with it."""


@dataclass(frozen=True)
class MenuItem:
    label: str       # already translated
    endpoint: str
    description: str = ""


class ServicePlugin:
    """Base class of every service. Subclasses set `name` and `title` and override hooks."""

    name: str = ""
    title: str = ""       # Japanese title (translated through the catalog for English)
    title_en: str = ""
    models_module: str | None = None
    public_endpoints: frozenset[str] = frozenset()

    def blueprint(self) -> Blueprint:
        raise NotImplementedError

    def migrations_dir(self) -> Path | None:
        package = importlib.import_module(type(self).__module__.rsplit(".", 1)[0])
        folder = Path(package.__file__).parent / "migrations"
        return folder if folder.is_dir() else None

    def menu_items(self, viewer) -> list[MenuItem]:
        return []

    def cli(self) -> click.Group | None:
        return None

    def metric_label(self, metric: str) -> str | None:
        """The operator console's words for one of this service's own usage metrics
        (translated), or None to leave it to the core's common names."""
        return None

    @property
    def package(self) -> str:
        return type(self).__module__.rsplit(".", 1)[0]


def discover() -> dict[str, type]:
    """Installed plugin classes by entry-point name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_plugins(names: Iterable[str] | None = None) -> dict[str, ServicePlugin]:
    """Load, type-check and namespace-check the plugins named (default: all installed)."""
    available = discover()
    wanted = list(available) if names is None else list(names)
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise PluginError(f"サービスが見つかりません / unknown services: {', '.join(unknown)}")
    plugins = {}
    for name in wanted:
        plugin = _instantiate(name, available[name].load())
        plugins[name] = plugin
    return plugins


def _instantiate(name: str, cls) -> ServicePlugin:
    if not (isinstance(cls, type) and issubclass(cls, ServicePlugin)):
        raise PluginError(f"{name}: not a ServicePlugin subclass")
    plugin = cls()
    if plugin.name != name:
        raise PluginError(f"{name}: plugin declares name {plugin.name!r}")
    if plugin.models_module:
        importlib.import_module(plugin.models_module)
    check_namespacing(plugin)
    return plugin


def check_namespacing(plugin: ServicePlugin, registry=None) -> None:
    """A plugin's blueprint is named after it and every table it maps carries its prefix."""
    bp = plugin.blueprint()
    if bp.name != plugin.name:
        raise PluginError(f"{plugin.name}: blueprint is named {bp.name!r}")
    prefix = plugin.name + "_"
    for mapper in (registry or Base.registry).mappers:
        module = mapper.class_.__module__
        if module != plugin.package and not module.startswith(plugin.package + "."):
            continue
        table = mapper.local_table.name
        if not table.startswith(prefix):
            raise PluginError(f"{plugin.name}: table {table!r} lacks the prefix {prefix!r}")
