"""What the relay itself says to people, in English and Indonesian.

Notices are stored as a code plus safe parameters (a listing title, a tag, a reason in plain
words) and rendered at send time in the recipient's language.
"""

from __future__ import annotations

NOTICES: dict[str, dict[str, str]] = {
    "help": {
        "en": "Perantara relays messages about marketplace listings without sharing numbers. "
        "To contact a seller, send the listing's handle (like K7Q2-MX9D) with your question. "
        "To answer in a conversation, reply to its message or start with its #TAG. "
        "Keywords: STOP (START to resume), BLOCK (UNBLOCK to undo), REPORT, HELP, "
        "MYDATA (download or erase your data).",
        "id": "Perantara meneruskan pesan tentang iklan tanpa membagikan nomor. "
        "Untuk menghubungi penjual, kirim kode iklan (seperti K7Q2-MX9D) beserta pertanyaan Anda. "
        "Untuk membalas, balas pesannya atau awali dengan #TAG. "
        "Kata kunci: BERHENTI (MULAI untuk melanjutkan), BLOKIR (BUKA untuk membatalkan), "
        "LAPOR, BANTUAN, DATAKU (unduh atau hapus data Anda).",
    },
    "ambiguous": {
        "en": "You have several conversations here, so we don't know which one this is for. "
        "Reply to one of their messages, or start your message with its #TAG (for example "
        "#{tags}). Nothing was forwarded.",
        "id": "Anda punya beberapa percakapan di sini, jadi kami tidak tahu pesan ini untuk "
        "yang mana. Balas salah satu pesannya, atau awali pesan dengan #TAG-nya (misalnya "
        "#{tags}). Tidak ada yang diteruskan.",
    },
    "unknown_handle": {
        "en": "We couldn't find a listing with the handle {handle}. Check it on the listing page. "
        "Nothing was forwarded.",
        "id": "Kami tidak menemukan iklan dengan kode {handle}. Periksa di halaman iklan. "
        "Tidak ada yang diteruskan.",
    },
    "handle_paused": {
        "en": "The listing “{title}” is not taking messages right now (sold or closed). "
        "Nothing was forwarded.",
        "id": "Iklan “{title}” sedang tidak menerima pesan (terjual atau ditutup). "
        "Tidak ada yang diteruskan.",
    },
    "handle_rotated": {
        "en": "The handle {handle} has been replaced by the seller. Find the new one on the "
        "listing page. Nothing was forwarded.",
        "id": "Kode {handle} sudah diganti oleh penjual. Lihat kode barunya di halaman iklan. "
        "Tidak ada yang diteruskan.",
    },
    "own_listing": {
        "en": "That is your own listing. Buyers' messages about it reach you here.",
        "id": "Itu iklan Anda sendiri. Pesan pembeli tentang iklan ini akan sampai ke sini.",
    },
    "media_unsupported": {
        "en": "Only text is relayed for now; your photo or file was not forwarded.",
        "id": "Untuk saat ini hanya teks yang diteruskan; foto atau berkas Anda tidak dikirim.",
    },
    "conversation_blocked": {
        "en": "This conversation about “{title}” has ended; your message was not delivered.",
        "id": "Percakapan tentang “{title}” sudah berakhir; pesan Anda tidak terkirim.",
    },
    "delivery_failed": {
        "en": "Your message about “{title}” could not be delivered: {reason}.",
        "id": "Pesan Anda tentang “{title}” tidak dapat dikirim: {reason}.",
    },
    "link_connected": {
        "en": "This chat is now connected to your Perantara account. Buyers' messages will "
        "reach you here.",
        "id": "Obrolan ini sekarang terhubung ke akun Perantara Anda. Pesan pembeli akan "
        "sampai ke sini.",
    },
    "verification_code": {
        "en": "Your Perantara code is {code}. It expires in 10 minutes.",
        "id": "Kode Perantara Anda {code}. Berlaku 10 menit.",
    },
    "data_request_code": {
        "en": "Your Perantara data code is {code}. To download or erase what Perantara keeps "
        "about you, open {url} and enter it within 10 minutes. If you did not ask for it, ignore "
        "this message: nothing happens without the code.",
        "id": "Kode data Perantara Anda {code}. Untuk mengunduh atau menghapus data Anda di "
        "Perantara, buka {url} dan masukkan kode dalam 10 menit. Jika Anda tidak memintanya, "
        "abaikan pesan ini: tanpa kode tidak ada yang terjadi.",
    },
    "data_request_web": {
        "en": "To download or erase your data, open “Your data”: {url}",
        "id": "Untuk mengunduh atau menghapus data Anda, buka “Data Anda”: {url}",
    },
    "too_long": {
        "en": "Your message is too long to relay (the limit is {limit} characters). "
        "Nothing was forwarded.",
        "id": "Pesan Anda terlalu panjang (batasnya {limit} karakter). Tidak ada yang diteruskan.",
    },
    "report_menu": {
        "en": "What is wrong? Reply with a number: 1 spam, 2 scam, 3 harassment, "
        "4 prohibited item, 5 other. You can add a few words after the number.",
        "id": "Apa masalahnya? Balas dengan angka: 1 spam, 2 penipuan, 3 pelecehan, "
        "4 barang terlarang, 5 lainnya. Anda boleh menambahkan keterangan setelah angka.",
    },
    "report_filed": {
        "en": "Thank you. Your report about “{title}” is with our moderators; the other side "
        "is not told who reported.",
        "id": "Terima kasih. Laporan Anda tentang “{title}” sudah diteruskan ke moderator; "
        "pihak lain tidak diberi tahu siapa yang melapor.",
    },
    "moderation_warning": {
        "en": "A moderator reviewed a report about your messages on Perantara. "
        "Please follow the rules: no spam, scams or harassment. Repeated reports lead to "
        "suspension.",
        "id": "Moderator meninjau laporan tentang pesan Anda di Perantara. "
        "Patuhi aturan: tanpa spam, penipuan, atau pelecehan. Laporan berulang berujung "
        "penangguhan.",
    },
    "suspended_until": {
        "en": "Your use of Perantara is suspended until {until}. Your messages will not be "
        "delivered until then.",
        "id": "Penggunaan Perantara Anda ditangguhkan hingga {until}. Pesan Anda tidak akan "
        "dikirim sampai saat itu.",
    },
    "conversation_paused": {
        "en": "This conversation about “{title}” is paused while a moderator reviews it; your "
        "message was not delivered.",
        "id": "Percakapan tentang “{title}” dihentikan sementara selama ditinjau moderator; "
        "pesan Anda tidak terkirim.",
    },
    "banned": {
        "en": "This number or account can no longer use Perantara.",
        "id": "Nomor atau akun ini tidak dapat lagi menggunakan Perantara.",
    },
    "slow_down": {
        "en": "You are sending too fast. Please wait a little and try again; this message was "
        "not forwarded.",
        "id": "Anda mengirim terlalu cepat. Tunggu sebentar lalu coba lagi; pesan ini tidak "
        "diteruskan.",
    },
    "held_as_spam": {
        "en": "The same message was sent to many listings, so it was held for review and not "
        "forwarded.",
        "id": "Pesan yang sama dikirim ke banyak iklan, jadi ditahan untuk ditinjau dan tidak "
        "diteruskan.",
    },
    "contact_masked": {
        "en": "To keep both sides safe, we hid {kinds} in your message: the other side sees "
        "{placeholder} in its place. Keep talking here; your number stays private.",
        "id": "Demi keamanan kedua pihak, kami menyembunyikan {kinds} di pesan Anda: pihak lain "
        "melihat {placeholder} sebagai gantinya. Lanjutkan di sini; nomor Anda tetap rahasia.",
    },
    "referral_noted": {
        "en": "You're writing about “{title}”. Send your question: it goes to the seller, and "
        "your number stays hidden.",
        "id": "Anda menulis tentang “{title}”. Kirim pertanyaan Anda: pesan akan sampai ke "
        "penjual, dan nomor Anda tetap tersembunyi.",
    },
    "too_long_for_app": {
        "en": "Your message is too long for the other side's app ({app} takes about {limit} "
        "characters here). Nothing was forwarded: please send it in shorter parts.",
        "id": "Pesan Anda terlalu panjang untuk aplikasi pihak lain ({app} menerima sekitar "
        "{limit} karakter di sini). Tidak ada yang diteruskan: kirim dalam beberapa bagian.",
    },
    "group_unsupported": {
        "en": "Perantara relays one-to-one chats only. Write to this number directly, not in a "
        "group; nothing was forwarded.",
        "id": "Perantara hanya meneruskan obrolan pribadi. Kirim pesan langsung ke nomor ini, "
        "bukan di grup; tidak ada yang diteruskan.",
    },
    "content_unsupported": {
        "en": "Only text is relayed for now: your location, contact card or other content was "
        "not forwarded. Write it as text if you want to share it.",
        "id": "Untuk saat ini hanya teks yang diteruskan: lokasi, kartu kontak, atau konten lain "
        "Anda tidak dikirim. Tulis sebagai teks jika ingin membagikannya.",
    },
    "empty_message": {
        "en": "Your message had no visible text, so nothing was forwarded.",
        "id": "Pesan Anda tidak berisi teks yang terlihat, jadi tidak ada yang diteruskan.",
    },
    "listing_busy": {
        "en": "The listing “{title}” is getting many new messages right now. Please try again "
        "in an hour; nothing was forwarded.",
        "id": "Iklan “{title}” sedang menerima banyak pesan baru. Coba lagi satu jam lagi; "
        "tidak ada yang diteruskan.",
    },
    "first_delivered": {
        "en": "Sent to the seller of “{title}”. Replies arrive here; your number stays hidden. "
        "Send STOP to end.",
        "id": "Terkirim ke penjual “{title}”. Balasan akan masuk ke sini; nomor Anda tetap "
        "tersembunyi. Kirim BERHENTI untuk mengakhiri.",
    },
    "stopped": {
        "en": "Done: you won't get more messages about “{title}”. To talk again, send START "
        "or the listing's handle {handle}.",
        "id": "Selesai: Anda tidak akan menerima pesan lagi tentang “{title}”. Untuk bicara "
        "lagi, kirim MULAI atau kode iklan {handle}.",
    },
    "resumed": {
        "en": "You're back in the conversation about “{title}”. Send STOP to end it again.",
        "id": "Anda kembali dalam percakapan tentang “{title}”. Kirim BERHENTI untuk "
        "mengakhirinya lagi.",
    },
    "opted_in": {
        "en": "Welcome back: messages from this number reach you again. Send STOP at any time "
        "to stop them.",
        "id": "Selamat datang kembali: pesan dari nomor ini akan sampai lagi. Kirim STOP kapan "
        "saja untuk menghentikannya.",
    },
    "blocked_by_buyer": {
        "en": "Blocked: the seller of “{title}” can no longer write to you here. Send UNBLOCK "
        "to undo it.",
        "id": "Diblokir: penjual “{title}” tidak dapat lagi mengirim pesan kepada Anda di sini. "
        "Kirim BUKA untuk membatalkannya.",
    },
    "blocked_by_seller": {
        "en": "Blocked: this buyer can no longer write to you about “{title}”. Send UNBLOCK, "
        "or unblock them in your inbox, to undo it.",
        "id": "Diblokir: pembeli ini tidak dapat lagi mengirim pesan kepada Anda tentang "
        "“{title}”. Kirim BUKA, atau buka blokirnya di kotak masuk, untuk membatalkannya.",
    },
    "unblocked": {
        "en": "Unblocked: you can write to each other about “{title}” again.",
        "id": "Blokir dibuka: Anda dapat saling mengirim pesan lagi tentang “{title}”.",
    },
    "you_ended": {
        "en": "You ended the conversation about “{title}”, so nothing was forwarded. Send START "
        "to resume it.",
        "id": "Anda telah mengakhiri percakapan tentang “{title}”, jadi tidak ada yang "
        "diteruskan. Kirim MULAI untuk melanjutkannya.",
    },
    "you_blocked": {
        "en": "You blocked the conversation about “{title}”, so nothing was forwarded. Send "
        "UNBLOCK to undo it.",
        "id": "Anda memblokir percakapan tentang “{title}”, jadi tidak ada yang diteruskan. "
        "Kirim BUKA untuk membatalkannya.",
    },
    "closed_buyer": {
        "en": "The conversation about “{title}” was closed after a quiet period, so nothing "
        "was forwarded. Send the listing's handle {handle} to start a new one.",
        "id": "Percakapan tentang “{title}” ditutup karena lama tidak aktif, jadi tidak ada "
        "yang diteruskan. Kirim kode iklan {handle} untuk memulai yang baru.",
    },
    "closed_seller": {
        "en": "The conversation about “{title}” was closed after a quiet period, so nothing "
        "was forwarded. The buyer can start a new one with the listing's handle.",
        "id": "Percakapan tentang “{title}” ditutup karena lama tidak aktif, jadi tidak ada "
        "yang diteruskan. Pembeli dapat memulai yang baru dengan kode iklan.",
    },
    "buyer_left": {
        "en": "The buyer ended the conversation about “{title}”. Your messages will not reach "
        "them unless they come back.",
        "id": "Pembeli mengakhiri percakapan tentang “{title}”. Pesan Anda tidak akan sampai "
        "kecuali mereka kembali.",
    },
    "seller_left": {
        "en": "The seller ended the conversation about “{title}”. Your messages will not reach "
        "them unless they come back.",
        "id": "Penjual mengakhiri percakapan tentang “{title}”. Pesan Anda tidak akan sampai "
        "kecuali mereka kembali.",
    },
    "buyer_back": {
        "en": "The buyer is back in the conversation about “{title}”: you can write again.",
        "id": "Pembeli kembali ke percakapan tentang “{title}”: Anda dapat menulis lagi.",
    },
    "seller_back": {
        "en": "The seller is back in the conversation about “{title}”: you can write again.",
        "id": "Penjual kembali ke percakapan tentang “{title}”: Anda dapat menulis lagi.",
    },
    "relay_blocked": {
        "en": "A moderator closed the conversation about “{title}”. Messages in it will not be "
        "delivered.",
        "id": "Moderator menutup percakapan tentang “{title}”. Pesan di dalamnya tidak akan "
        "dikirim.",
    },
}

# What the number guard hid, as the contact_masked notice names it.
KIND_NAMES = {
    "phone": {"en": "a phone number", "id": "nomor telepon"},
    "email": {"en": "an e-mail address", "id": "alamat e-mail"},
    "app_link": {"en": "a messaging-app link or handle", "id": "tautan atau akun aplikasi pesan"},
}
AND = {"en": " and ", "id": " dan "}


def _kinds(kinds: str, language: str) -> str:
    names = [KIND_NAMES[kind].get(language, KIND_NAMES[kind]["en"]) for kind in kinds.split(",")]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + AND.get(language, AND["en"]) + names[-1]


def render_notice(code: str, language: str, params: dict[str, str]) -> str:
    texts = NOTICES[code]
    template = texts.get(language) or texts["en"]
    if params.get("kinds"):
        params = {**params, "kinds": _kinds(params["kinds"], language)}
    return template.format(**params)
