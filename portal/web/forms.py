"""The base of every form: an HTML form, filled from the posted form fields only."""
from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import ImmutableMultiDict


class PortalForm(FlaskForm):
    """Flask-WTF also fills a form from a JSON body, where a list, a number or an object in
    place of a field crashed the form (a 500). The portal's forms are HTML forms and its
    JSON endpoints use none, so a JSON post to a form page is an empty, invalid submission."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is _Auto and request.is_json and not (request.form or request.files):
                return ImmutableMultiDict() if form.is_submitted() else None
            return super().wrap_formdata(form, formdata)
