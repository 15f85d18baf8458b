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

# portal/staff/services.py SignInRefused and portal/cards/services.py EnrollmentRefused
# messages are extracted with the keywords `SignInRefused` / `EnrollmentRefused`
# (scripts/i18n.sh), so they are not repeated here.

# portal/cards/errors.py CardTokenError.message per class (card login/registration refusals,
# sent as JSON through _() by portal/cards/views.py _refusal()).
N_("カードによる本人確認ができませんでした。もう一度お試しください。")
N_("カードから受け取ったデータが正しくありません。カード用アプリを最新にしてお試しください。")
N_("画面の有効期限が切れたか、すでに使われています。ページを読み込み直してください。")
N_("このカードの電子証明書は利用できません。")
N_("利用者証明用電子証明書ではありません。マイナンバーカードの利用者証明用電子証明書をお使いください。")
N_("このカードの電子証明書を確認できません。マイナンバーカード以外のカードではありませんか。")
N_("電子証明書の有効期限が切れています。市区町村の窓口で更新してください。")
N_("電子証明書がまだ有効になっていません。時間をおいてお試しください。")
N_("この電子証明書は失効しています。市区町村の窓口にお問い合わせください。")
N_("電子証明書の有効性を確認できません。しばらくしてからお試しください。")
N_("カードの署名を確認できませんでした。正しいサイトにアクセスしているか確認してください。")

# Service plugin titles (services/*/plugin.py `title`), shown by the operator's city settings.
N_("コンビニ交付")
N_("母子健康手帳")
N_("お薬手帳")

# portal/jointcloud/report.py CATEGORY_LABELS (operator apportionment page).
N_("初期（更改）費用")
N_("運用費用")
N_("データセンター経費")
N_("共同改修（法改正等）")

# services/convenience_issuance/services.py CERTIFICATE_LABELS (templates: _(label)).
N_("住民票の写し")
N_("住民票記載事項証明書")
N_("印鑑登録証明書")
N_("所得・課税証明書")

# services/maternal_health/views.py SEX_WORDS (growth chart titles).
N_("男の子")
N_("女の子")

# services/maternal_health/views_staff.py RecordRefused messages (shown through _()).
N_("妊娠届出を先に登録してください。")
N_("母である保護者が登録されていません。住民記録を確認してください。")

# portal/staff/models.py ROLE_LABELS (shown on the staff dashboard through _()).
N_("管理者")
N_("住民記録担当")
N_("母子保健担当")
N_("証明書交付担当")
N_("共同利用運用担当")


# Access-log purposes written by the core (portal/*/views.py), shown through |purpose_label.
N_("本人による住民情報の確認")
N_("住民記録の確認（職員）")
N_("世帯情報の確認（職員）")
N_("住民検索（職員）")
N_("お薬手帳の利用者検索（職員）")
N_("交付済み証明書の検索（職員）")
N_("団体データの書き出し（共同利用の運用）")
N_("マイナンバーカードの利用登録（本人）")

# Access-log purposes written by the services, shown to residents through |purpose_label.
# services/convenience_issuance
N_("交付履歴の確認（本人）")
N_("交付済み証明書の失効（職員）")
N_("コンビニ交付の交付可否の確認")
N_("コンビニ交付による証明書の発行")
# services/maternal_health
N_("母子保健の対象者検索（職員）")
N_("母子健康手帳の確認（職員）")
N_("母子健康手帳の記録（職員）")
N_("母子健康手帳の訂正（職員）")
N_("未接種者・未受診者への勧奨（職員）")
N_("母子健康手帳の閲覧（本人）")
N_("母子健康手帳の閲覧（保護者・保健師）")
N_("母子健康手帳の書き出し（PDF）")
N_("母子健康手帳の書き出し（JSON）")
# services/medication: purpose(person, doing) appends （職員）, （本人） or （保護者）.
N_("お薬手帳の確認（職員）")
N_("お薬手帳の確認（本人）")
N_("お薬手帳の確認（保護者）")
N_("お薬手帳の検索（職員）")
N_("お薬手帳の検索（本人）")
N_("お薬手帳の検索（保護者）")
N_("重複投薬の確認（職員）")
N_("重複投薬の確認（本人）")
N_("重複投薬の確認（保護者）")
N_("お薬手帳の書き出し（職員）")
N_("お薬手帳の書き出し（本人）")
N_("お薬手帳の書き出し（保護者）")
N_("お薬手帳の取り込み（職員）")
N_("お薬手帳の取り込み（本人）")
N_("お薬手帳の取り込み（保護者）")
