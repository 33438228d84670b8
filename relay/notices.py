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
        "Keywords: STOP, BLOCK, REPORT, HELP.",
        "id": "Perantara meneruskan pesan tentang iklan tanpa membagikan nomor. "
        "Untuk menghubungi penjual, kirim kode iklan (seperti K7Q2-MX9D) beserta pertanyaan Anda. "
        "Untuk membalas, balas pesannya atau awali dengan #TAG. "
        "Kata kunci: BERHENTI, BLOKIR, LAPOR, BANTUAN.",
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
    "blocked_confirm": {
        "en": "Done: you won't get more messages in the conversation about “{title}”.",
        "id": "Selesai: Anda tidak akan menerima pesan lagi dalam percakapan tentang “{title}”.",
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
        "en": "Phone numbers and e-mail addresses are hidden in messages on this listing, so "
        "the seller sees [hidden] in their place. Use the relay to keep talking.",
        "id": "Nomor telepon dan alamat e-mail disembunyikan di pesan iklan ini, jadi penjual "
        "melihat [disembunyikan]. Gunakan relay untuk terus berkomunikasi.",
    },
}


def render_notice(code: str, language: str, params: dict[str, str]) -> str:
    texts = NOTICES[code]
    template = texts.get(language) or texts["en"]
    return template.format(**params)
