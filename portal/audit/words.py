"""The resident's やりとり履歴 in the resident's words: one sentence per access-log entry
(「母子健康手帳のお子さんの記録を保健師が更新しました」) instead of the stored codes
(`write / maternal_health.checkup`), which stay for staff and vendors.

Resources are named by the service prefix and the record; a resource this table does not
know falls back to its service's name, so a new service's entries still read as words."""
from __future__ import annotations

from portal.web.i18n import gettext, lazy_gettext as _l

from portal.audit.models import AccessLogEntry

RESOURCES = {
    "registry.resident": _l("住民記録"),
    "registry.household": _l("世帯の記録"),
    "registry.search": _l("住民記録の検索"),
    "cards.binding": _l("マイナンバーカードの利用登録"),
    "maternal_health.mother": _l("母子健康手帳の妊娠・出産の記録"),
    "maternal_health.child": _l("母子健康手帳のお子さんの記録"),
    "maternal_health.staff_record": _l("母子健康手帳の記録"),
    "maternal_health.export": _l("母子健康手帳の書き出し"),
    "maternal_health.search": _l("母子健康手帳の検索"),
    "maternal_health.worklist": _l("予防接種・健診のお知らせの対象者一覧"),
    "maternal_health.pregnancy": _l("母子健康手帳の妊娠届出の記録"),
    "maternal_health.prenatal": _l("母子健康手帳の妊婦健康診査の記録"),
    "maternal_health.postpartum": _l("母子健康手帳の産後の健康診査の記録"),
    "maternal_health.birth": _l("母子健康手帳のお子さんの出生の記録"),
    "maternal_health.checkup": _l("母子健康手帳のお子さんの健診の記録"),
    "maternal_health.immunisation": _l("母子健康手帳のお子さんの予防接種の記録"),
    "medication.document": _l("お薬手帳の取り込み"),
    "medication.alerts": _l("お薬手帳の飲み合わせの確認"),
    "convenience_issuance.certificates": _l("コンビニ交付の証明書の一覧"),
    "convenience_issuance.certificate": _l("コンビニ交付の証明書"),
    "convenience_issuance.eligibility": _l("コンビニ交付の利用資格"),
}
SERVICES = {"registry": _l("住民記録"), "cards": _l("マイナンバーカードの利用登録"),
            "maternal_health": _l("母子健康手帳"), "medication": _l("お薬手帳"),
            "convenience_issuance": _l("コンビニ交付の証明書"), "oidc": _l("連携サービスへの情報提供")}

# One sentence per action: what, then who (the order マイナポータル uses), then the verb.
SENTENCES = {
    "read": _l("%(what)sを%(who)sが見ました"),
    "search": _l("%(what)sで、%(who)sの検索結果に表示されました"),
    "create": _l("%(what)sを%(who)sが登録しました"),
    "write": _l("%(what)sを%(who)sが更新しました"),
    "update": _l("%(what)sを%(who)sが更新しました"),
    "amend": _l("%(what)sを%(who)sが訂正しました"),
    "export": _l("%(what)sを%(who)sが書き出しました"),
    "issue": _l("%(what)sを%(who)sが証明書として発行しました"),
    "delete": _l("%(what)sを%(who)sが削除しました"),
}
ROLES = {"health_staff": _l("保健師"), "registry_clerk": _l("住民記録の担当職員"),
         "issuance_operator": _l("証明書交付の担当職員"), "administrator": _l("管理者"),
         "cloud_operator": _l("共同利用の運用者")}


def resource_words(resource: str) -> str:
    words = RESOURCES.get(resource)
    if words is None:
        words = SERVICES.get(resource.split(".", 1)[0], _l("あなたの情報"))
    return str(words)


def actor_words(entry: AccessLogEntry, reader_id: int) -> str:
    """Who, as the reader would say it: あなた, a family member by name, the staff
    member's job and name, or the portal itself."""
    if entry.actor_type == "resident":
        if entry.actor_id == reader_id:
            return gettext("あなた")
        return gettext("ご家族（%(name)s）", name=entry.actor_name)
    if entry.actor_type == "staff":
        roles = [r.strip() for r in (entry.actor_role or "").split(",") if r.strip()]
        job = next((str(ROLES[r]) for r in roles if r in ROLES), gettext("職員"))
        return gettext("%(job)s（%(name)s）", job=job, name=entry.actor_name)
    if entry.actor_type == "partner":
        return gettext("連携先サービス「%(name)s」", name=entry.actor_name)
    return gettext("窓口のシステム")


def sentence(entry: AccessLogEntry, reader_id: int) -> str:
    """The entry as one sentence in the reader's language."""
    template = SENTENCES.get(entry.action)
    what, who = resource_words(entry.resource), actor_words(entry, reader_id)
    if template is None:
        return gettext("%(what)sを%(who)sが扱いました", what=what, who=who)
    return str(template) % {"what": what, "who": who}
