"""The service plugin contract: entry points, namespacing, per-city enabling."""
import pytest
from flask import Blueprint
from sqlalchemy import Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal.plugins import PluginError, ServicePlugin, check_namespacing, discover, load_plugins

SERVICES = {"maternal_health", "medication", "convenience_issuance"}


def test_three_services_are_registered_entry_points():
    assert SERVICES <= set(discover())
    plugins = load_plugins()
    assert all(isinstance(p, ServicePlugin) and p.name == n for n, p in plugins.items())


def test_each_service_has_its_own_migration_branch():
    for plugin in load_plugins().values():
        folder = plugin.migrations_dir()
        assert folder is not None and any((folder / "versions").glob(f"{plugin.name}_*.py"))


def test_unknown_service_in_configuration_is_refused():
    with pytest.raises(PluginError, match="no_such_service"):
        load_plugins(["no_such_service"])


def test_blueprint_must_carry_the_plugin_name():
    class Misnamed(ServicePlugin):
        name = "misnamed"

        def blueprint(self):
            return Blueprint("something_else", __name__)
    with pytest.raises(PluginError, match="blueprint"):
        check_namespacing(Misnamed())


def test_tables_must_carry_the_plugin_prefix():
    class Sloppy(ServicePlugin):
        name = "sloppy"

        def blueprint(self):
            return Blueprint("sloppy", __name__)

        @property
        def package(self):
            return __name__.rsplit(".", 1)[0]

    class OwnBase(DeclarativeBase):  # kept apart from the portal's metadata
        pass

    class Unprefixed(OwnBase):
        __tablename__ = "records_without_prefix"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)

    with pytest.raises(PluginError, match="records_without_prefix"):
        check_namespacing(Sloppy(), registry=OwnBase.registry)


def test_services_mount_under_services_prefix(app):
    rules = {r.rule for r in app.url_map.iter_rules()}
    for name in SERVICES:
        assert f"/services/{name}/" in rules


def test_a_service_disabled_for_one_city_is_gone_only_there(client, sign_in_as, make_city,
                                                            make_resident):
    nankoku = make_city("392049", "南国市", services=["medication", "maternal_health"])
    kami = make_city("392120", "香美市", services=["medication"])
    sign_in_as(make_resident(kami))
    assert client.get("/services/maternal_health/").status_code == 404
    assert client.get("/services/medication/").status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert "お薬手帳" in home and "母子健康手帳" not in home
    sign_in_as(make_resident(nankoku))
    assert client.get("/services/maternal_health/").status_code == 200
    assert "母子健康手帳" in client.get("/").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_the_home_page(client, make_city):
    make_city()
    response = client.get("/services/medication/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/")


def test_deployment_may_load_a_subset(app_config):
    from portal import create_app
    app = create_app({**app_config, "SERVICES": ["medication"]})
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert "/services/medication/" in rules and "/services/maternal_health/" not in rules
