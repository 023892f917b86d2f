"""The supported archive formats as plain data: name, module, description and how a user gets the
file. Read by ``sms-audit import --help`` without importing any parser (``--help`` stays fast)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FormatInfo:
    name: str  # the importer's NAME, also the --input-format value
    module: str  # module under sms_audit.importers
    description: str  # the importer's DESCRIPTION
    how_to_get: str  # where the user finds the file


#: Every supported format, in sniffing order (the first importer whose sniff() accepts a file reads it).
CATALOG: tuple[FormatInfo, ...] = (
    FormatInfo(
        "sbr_xml",
        "android_xml",
        "SMS Backup & Restore XML (.xml or .zip)",
        "SMS Backup & Restore app (Android): sms-*.xml; also Signal/Silence XML exports",
    ),
    FormatInfo(
        "sms_ie",
        "sms_ie",
        "SMS Import/Export (sms-ie) ZIP or JSON",
        "SMS Import/Export app (Android, F-Droid): messages-*.zip or .json",
    ),
    FormatInfo(
        "ios_backup",
        "ios_backup",
        "iOS backup folder (iTunes/Finder, also encrypted)",
        "Finder/iTunes backup folder (macOS ~/Library/Application Support/MobileSync/Backup/<id>, "
        "Windows %APPDATA%\\Apple Computer\\MobileSync\\Backup\\<id>)",
    ),
    FormatInfo(
        "ios_sms_db",
        "ios_sms_db",
        "iOS sms.db / macOS chat.db (SQLite)",
        "sms.db from an iPhone backup or extraction; chat.db from ~/Library/Messages on a Mac",
    ),
    FormatInfo(
        "android_mmssms",
        "android_mmssms",
        "Android mmssms.db (telephony provider database)",
        "rooted phone or forensic extraction: /data/data/com.android.providers.telephony/databases/mmssms.db",
    ),
    FormatInfo(
        "android_telephony_backup",
        "android_telephony_backup",
        "Android adb backup TelephonyBackupAgent files (zlib JSON)",
        "`adb backup` unpacked: apps/com.android.providers.telephony/d_f/000000_sms_backup",
    ),
    FormatInfo(
        "miui_backup",
        "miui_backup",
        "Xiaomi MIUI/HyperOS local backup (folder, .zip or .bak)",
        "Xiaomi/Redmi/POCO Settings → About phone → Back up and restore → Local backups (设置 → 我的设备 → "
        "备份与恢复 → 本地备份), with 短信/Messages selected; copy MIUI/backup/AllBackup/<date>/ (or its .zip) "
        "from the phone's storage",
    ),
    FormatInfo(
        "huawei_backup",
        "huawei_backup",
        "Huawei/Honor backup sms.db (decrypted; sms_tb)",
        "Huawei/Honor Settings → System → Backup & restore (备份和恢复) to a memory card, USB drive or PC "
        "(HiSuite), with a backup password; decrypt the backup folder with kobackupdec and the password, "
        "then pass its output folder or db/sms.db (the encrypted folder is recognised and explained)",
    ),
    FormatInfo(
        "google_messages",
        "google_messages",
        "Google Messages bugle_db (SQLite)",
        "rooted phone or forensic extraction: /data/data/com.google.android.apps.messaging/databases/"
        "bugle_db (with bugle_db-wal beside it); the only place end-to-end encrypted RCS text is kept",
    ),
    FormatInfo(
        "vmsg",
        "vmessage",
        "vMessage .vmsg (OPPO/OnePlus/realme incl. encrypted ColorOS 12+, MediaTek, Meizu, ZTE, Windows Phone)",
        "OPPO/OnePlus/realme: 备份与迁移 → 本地备份 → 新建备份 with 信息 (Messages) ticked, then copy the folder "
        "Android/data/com.coloros.backuprestore/Backup/Data/<date>/ (OnePlus: com.oneplus.backuprestore) "
        "and pass it (ColorOS 12+ encrypts it; decrypting needs the optional cryptography package, "
        "the coloros extra); older OPPO, Meizu, ZTE and MediaTek phones' Backup app: the sms.vmsg in its "
        "backup's sms folder; Windows Phone: the .vmsg its message backup writes",
    ),
    FormatInfo(
        "super_backup_xml",
        "super_backup",
        "Super Backup (超级备份) SMS XML (<allsms>)",
        "超级备份 / Super Backup & Restore app (Android): back up SMS, then the .xml file it writes",
    ),
    FormatInfo(
        "csv",
        "csv_export",
        "CSV export (iMazing, QQ同步助手, or any CSV with --csv-map)",
        "iMazing (Mac/PC): Messages → Export to CSV; QQ同步助手 web (ic.qq.com): the SMS export (GBK CSV); "
        "any other CSV: add --csv-map date=COL,direction=COL,address=COL,body=COL",
    ),
)


def catalog_help() -> str:
    """The format list for ``sms-audit import --help``: one paragraph per format."""
    return "\n\n".join(f"{f.name}: {f.description}. Get it: {f.how_to_get}." for f in CATALOG)
