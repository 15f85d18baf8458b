"""A city's configuration: edit (form), download and upload as a file, with history."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from portal.web.i18n import gettext as _
from wtforms import SelectChoice

from portal.auth import current_viewer
from portal.extensions import database
from portal.jointcloud import config
from portal.operator.forms import CitySettingsForm, ConfigUploadForm
from portal.operator.views import bp, member_or_404, operator_required
from portal.services_host import plugins


def _actor() -> dict:
    viewer = current_viewer()
    return {"actor_name": viewer.name, "actor_role": viewer.role_label}


@bp.route("/cities/<code>/settings", methods=["GET", "POST"])
@operator_required
def edit_settings(code: str):
    with database().transaction() as db:
        member = member_or_404(db, code)
        form = CitySettingsForm(obj=None if request.method == "POST" else _FormView(member))
        form.services.choices = [SelectChoice(name, _(p.title) or name)
                                 for name, p in plugins().items()]
        status = 200
        if form.validate_on_submit():
            try:
                settings = _settings_from(form, member.settings or {})
            except config.ConfigInvalid as exc:
                # about any setting (hours, logo, seal, catalogue): shown above the form,
                # not under one field they may not concern
                for problem in exc.problems:
                    flash(problem, "error")
                status = 400
            else:
                return _save(member.id, code, form, settings)
        elif request.method == "POST":
            status = 400
    return render_template("operator/edit.html", member=member, form=form), status


def _save(member_id: int, code: str, form: CitySettingsForm, settings: dict):
    identity = {"name": form.name.data.strip(), "name_en": (form.name_en.data or "").strip(),
                "prefecture": (form.prefecture.data or "").strip(),
                "population": form.population.data}
    # The history row belongs to the city: write it in the city's own scope.
    with database().transaction(member_id) as db:
        member = member_or_404(db, code)
        entry = config.change(db, member, identity, settings, source="web",
                              note=form.note.data or "", **_actor())
    flash(_("設定を保存しました。") if entry else _("変更はありませんでした。"))
    return redirect(url_for("operator.city", code=code))


def _settings_from(form: CitySettingsForm, current: dict) -> dict:
    """The form's values over the current settings (keys the form does not show stay)."""
    settings = dict(current)
    settings["services"] = list(form.services.data or [])
    hours = {k: v for k, v in (("counter", form.hours_counter.data),
                               ("convenience", form.hours_convenience.data)) if v}
    settings["hours"] = {**current.get("hours", {}), **hours}
    for key in ("counter", "convenience"):
        if not hours.get(key):
            settings["hours"].pop(key, None)
    branding = {k: (getattr(form, k).data or "").strip()
                for k in ("display_name", "primary_colour", "accent_colour", "logo")}
    # keys the form does not show (set by a configuration file) are kept
    merged = {**current.get("branding", {}), **branding}
    settings["branding"] = {k: v for k, v in merged.items() if v}
    settings["seal_image"] = (form.seal_image.data or "").strip()
    issuance = dict(current.get("issuance", {}))
    issuance["certificates"] = parse_catalogue(form.catalogue.data or "", current)
    settings["issuance"] = issuance
    return config.validate_settings(settings, plugins().keys())


def parse_catalogue(text: str, current: dict) -> list[dict]:
    """Lines "type,名称,fee" → certificate entries (other keys of an entry are kept)."""
    old = {c.get("type"): c for c in current.get("issuance", {}).get("certificates", [])
           if isinstance(c, dict)}
    entries, problems = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) != 3 or not parts[2].isdigit():
            problems.append(_("%(n)d行目: 「種類コード,名称,手数料」の形で書いてください", n=n))
            continue
        entries.append({**old.get(parts[0], {}), "type": parts[0], "name": parts[1],
                        "fee": int(parts[2])})
    if problems:
        raise config.ConfigInvalid(problems)
    return entries


class _FormView:
    """Presents a municipality's settings as the form's flat fields."""

    def __init__(self, member) -> None:
        s = member.settings or {}
        self.name, self.name_en = member.name, member.name_en
        self.prefecture, self.population = member.prefecture, member.population
        self.services = list(s.get("services", []))
        self.hours_counter = s.get("hours", {}).get("counter", "")
        self.hours_convenience = s.get("hours", {}).get("convenience", "")
        branding = s.get("branding", {})
        for key in ("display_name", "primary_colour", "accent_colour", "logo"):
            setattr(self, key, branding.get(key, ""))
        self.seal_image = s.get("seal_image", "")
        self.catalogue = "\n".join(f"{c.get('type')},{c.get('name')},{c.get('fee')}"
                                   for c in s.get("issuance", {}).get("certificates", []))
        self.note = ""


@bp.get("/cities/<code>/config.<fmt>")
@operator_required
def download_config(code: str, fmt: str):
    if fmt not in ("toml", "json"):
        return Response(_("形式は toml か json です。"), status=404)
    with database().transaction() as db:
        member = member_or_404(db, code)
        text = config.dumps(config.document_of(member), fmt)
    mimetype = "application/toml" if fmt == "toml" else "application/json"
    return Response(text, mimetype=f"{mimetype}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{code}.{fmt}"'})


@bp.route("/cities/<code>/config/import", methods=["GET", "POST"])
@operator_required
def upload_config(code: str):
    with database().transaction() as db:
        member = member_or_404(db, code)
        member_id, shown = member.id, {"code": member.code, "name": member.name}
    form = ConfigUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            text = form.file.data.read().decode("utf-8")
            document = config.loads(text, form.file.data.filename or "")
            with database().transaction(member_id) as db:
                entry = config.apply_document(db, member_or_404(db, code), document, source="import",
                                              known_services=plugins().keys(),
                                              note=form.note.data or "", **_actor())
        except UnicodeDecodeError:
            problems = [_("ファイルは UTF-8 で保存してください。")]
        except config.ConfigInvalid as exc:
            problems = exc.problems
        else:
            flash(_("設定ファイルを取り込みました。") if entry else _("変更はありませんでした。"))
            return redirect(url_for("operator.city", code=code))
    status = 400 if request.method == "POST" else 200
    return render_template("operator/upload.html", member=shown, form=form,
                           problems=problems), status
