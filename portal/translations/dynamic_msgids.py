"""Msgids that reach `_()` as variables, listed here so `pybabel extract` sees them.

Never imported: the extractor only reads this file (keyword `N_`, see babel.cfg and
scripts/i18n.sh). Keep each string byte-for-byte identical to its source, or the
translation silently stops applying. tests/core/test_i18n.py checks the sources below
against the catalog, so a drift fails CI.
"""


def N_(message: str) -> str:  # noqa: N802  (the conventional name for a no-op marker)
    return message


# portal/web/errors.py MESSAGES: (title, hint) per status, translated in render_error().
N_("リクエストが正しくありません")
N_("入力内容をご確認のうえ、もう一度お試しください。")
N_("このページを表示する権限がありません")
N_("必要な場合は窓口にお問い合わせください。")
N_("ページが見つかりません")
N_("アドレスをご確認ください。")
N_("この操作はできません")
N_("トップページからやり直してください。")
N_("ファイルが大きすぎます")
N_("小さいファイルでお試しください。")
N_("操作が多すぎます")
N_("しばらく待ってから、もう一度お試しください。")
N_("システムエラーが発生しました")
N_("お手数ですが、しばらくしてからもう一度お試しください。")
N_("ただいまサービスを利用できません")
N_("しばらくしてからもう一度お試しください。入力中の内容は保存されていません。")

# portal/staff/services.py SignInRefused messages are extracted with the keyword
# `SignInRefused` (scripts/i18n.sh), so they are not repeated here.

# portal/staff/models.py ROLE_LABELS (shown on the staff dashboard). NOTE: the dashboard
# does not pass them through _() yet; listed so the translations are ready when it does.
N_("管理者")
N_("住民記録担当")
N_("母子保健担当")
N_("証明書交付担当")
N_("共同利用運用担当")


# Access-log purposes written by the core (portal/*/views.py), shown through |purpose_label.
N_("本人による住民情報の確認")
N_("住民記録の確認（職員）")
N_("世帯情報の確認（職員）")
N_("マイナンバーカードの利用登録（本人）")
