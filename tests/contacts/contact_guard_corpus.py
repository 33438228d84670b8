"""Messages and listings as people write them, for the number guard.

Each positive says exactly what the masked text must be (the text around a detail intact);
each negative must come back unchanged. `sender` is the writer's region, passed through
`regions_for`. A case the guard cannot get right without harming others stays here with
`known_miss` saying why; the test asserts how many there are.

The numbers are fictional (US 555-01xx) or made up; none belongs to a real person.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    text: str
    masked: str  # equal to `text` for a negative
    sender: str = "ID"
    known_miss: str = ""

    @property
    def positive(self) -> bool:
        return self.masked != self.text


def hidden(text: str, masked: str, sender: str = "ID", known_miss: str = "") -> Case:
    return Case(text, masked, sender, known_miss)


def kept(text: str, sender: str = "ID", known_miss: str = "") -> Case:
    return Case(text, text, sender, known_miss)


POSITIVES = [
    # Indonesian, numbers as digits
    hidden("WA saya 0812-3456-7890 ya kak", "WA saya [hidden] ya kak"),
    hidden("hubungi +62 812 3456 7890", "hubungi [hidden]"),
    hidden("call/wa 62812-3456-7890", "call/wa [hidden]"),
    hidden("WA: 0812.3456.7890", "WA: [hidden]"),
    hidden("hp 0812/3456/7890 (Sari)", "hp [hidden] (Sari)"),
    hidden("telp (08123456789) sore aja", "telp ([hidden]) sore aja"),
    hidden("[0812-3456-7890]", "[[hidden]]"),
    hidden("(WA 0812-3456-7890)", "(WA [hidden])"),
    hidden("0 8 1 2 3 4 5 6 7 8 9 0 itu nomorku", "[hidden] itu nomorku"),
    hidden("kontak kantor 021 5555 0199 jam kerja", "kontak kantor [hidden] jam kerja"),
    hidden("langsung ke 0062 812 3456 7890 ya", "langsung ke [hidden] ya"),
    hidden("0812-3456-7890 / 0856-1234-5678", "[hidden] / [hidden]"),
    hidden("WA 0812-3456-7890|0856-1234-5678", "WA [hidden]|[hidden]"),
    hidden("My WA is +6281234567890, thanks!", "My WA is [hidden], thanks!"),
    hidden("WA/Telp: 0812-3456-7890 (Sari)", "WA/Telp: [hidden] (Sari)"),
    hidden("WA 812-3456-7890 ya", "WA [hidden] ya"),
    hidden(
        "Jl. Merdeka 12, Bandung 40115. Telp 022-4201234",
        "Jl. Merdeka 12, Bandung 40115. Telp [hidden]",
    ),
    hidden(
        "Harga Rp 2.750.000, nego. WA 0812-3456-7890",
        "Harga Rp 2.750.000, nego. WA [hidden]",
    ),
    # Indonesian, disguised
    hidden("Nomor saya 0812-3456-789O, chat aja", "Nomor saya [hidden], chat aja"),
    hidden("Nomor: O8I2-3456-7890", "Nomor: [hidden]"),
    hidden("nomor 0812-345l-7890 ya", "nomor [hidden] ya"),
    hidden(
        "nomorku nol delapan satu dua tiga empat lima enam tujuh delapan sembilan",
        "nomorku [hidden]",
    ),
    hidden("Kosong delapan lima enam, satu dua tiga empat, lima enam tujuh", "[hidden]"),
    hidden("nomer 0812 tiga empat lima enam tujuh delapan sembilan", "nomer [hidden]"),
    # English, numbers as digits
    hidden("call me at (415) 555-0100 tonight", "call me at [hidden] tonight", sender="US"),
    hidden("or +1 415-555-0100", "or [hidden]", sender="US"),
    hidden("text me 415-555-0188", "text me [hidden]", sender="ID"),
    hidden("my number is 0813-5555-0099", "my number is [hidden]", sender="US"),
    hidden("(+62) 812 3456 7890 is my WhatsApp", "[hidden] is my WhatsApp", sender="US"),
    hidden("call 001 415 555 0100 from Indonesia", "call [hidden] from Indonesia"),
    hidden("tel.+62-21-5555-0199", "tel.[hidden]", sender="US"),
    hidden("my number 4I5-555-OI88 ok?", "my number [hidden] ok?", sender="US"),
    hidden("London office: +44 20 7946 0958", "London office: [hidden]", sender="US"),
    # English, spelled out
    hidden("zero eight one two three four five six seven eight nine zero", "[hidden]"),
    hidden(
        "reach me on four one five five five five zero one eight eight",
        "reach me on [hidden]",
        sender="US",
    ),
    hidden("four one five, 555, oh one eight eight", "[hidden]", sender="US"),
    hidden("zero eight one two double three four five six seven", "[hidden]"),
    # E-mail addresses
    hidden("email: sari.w@example.co.id ya", "email: [hidden] ya"),
    hidden("mail sari.w@example.co.id please.", "mail [hidden] please."),
    hidden("kirim ke sari [at] gmail [dot] com", "kirim ke [hidden]"),
    hidden("contact: sari(at)example(dot)com", "contact: [hidden]"),
    hidden("email me: sari at gmail dot com", "email me: [hidden]"),
    hidden("write to sari @ gmail.com", "write to [hidden]"),
    hidden("sari.wulandari@gmail aja", "[hidden] aja"),
    hidden("Hubungi 0812 3456 7890 atau sari@gmail.com", "Hubungi [hidden] atau [hidden]"),
    # Messaging-app links
    hidden("langsung klik wa.me/6281234567890", "langsung klik [hidden]"),
    hidden("https://api.whatsapp.com/send?phone=6281234567890&text=halo gan", "[hidden] gan"),
    hidden("cek instagram.com/sari.bikes buat foto lain", "cek [hidden] buat foto lain"),
    hidden("DM on telegram t.me/sari_bikes!", "DM on telegram [hidden]!"),
    hidden("(t.me/sari_bikes)", "([hidden])"),
    hidden("www.facebook.com/sari.wulandari.77", "[hidden]"),
    hidden("https://m.me/saribikes.", "[hidden]."),
    hidden("add me line.me/ti/p/~saribikes", "add me [hidden]"),
    hidden("ig.me/m/sari.bikes", "[hidden]"),
    hidden("telegram.me/saribikes", "[hidden]"),
    # Messaging-app handles
    hidden("ig: @sari.bikes", "ig: [hidden]"),
    hidden("Follow IG @sari.bikes ya kak!", "Follow IG [hidden] ya kak!"),
    hidden("my insta: @sari.bikes.", "my insta: [hidden]."),
    hidden("Telegram: @sari_bikes", "Telegram: [hidden]"),
    hidden("WhatsApp - @saribikes", "WhatsApp - [hidden]"),
    hidden("line id: @saribikes", "line id: [hidden]"),
    hidden("tele: saribikes", "tele: [hidden]"),
    hidden("IG: sari.bikes", "IG: [hidden]"),
    hidden("tg @sari_bikes", "tg [hidden]"),
]

NEGATIVES = [
    # Prices
    kept("Harga Rp 2.750.000 nego tipis"),
    kept("Rp2,75jt aja kak"),
    kept("2,75 jt sudah termasuk ongkir"),
    kept("IDR 900.000 only"),
    kept("It's $1,250.00 firm", sender="US"),
    kept("cuma 1.5 juta"),
    kept("harga 3500000 rupiah"),
    kept("Prices: 1.250.000 / 1.500.000 / 2.000.000"),
    kept("The 3 of us paid 1,250,000 total"),
    kept("Rp 1.500.000, satu dua hari lagi bisa kirim"),
    kept("1500000 aja, nego tipis"),
    kept("harga 1500000 nego"),
    kept("HP baru 1.500.000 aja"),
    kept("Rp 12.500.000,00 sudah lunas"),
    kept("cicilan 12x 150.000"),
    # Dates and times
    kept("Bisa COD tanggal 12/03/2026"),
    kept("available from 2026-12-01", sender="US"),
    kept("ketemuan jam 14.30 di stasiun"),
    kept("pickup at 09:15 tomorrow", sender="US"),
    kept("Toko buka 08.00-17.00 setiap hari"),
    kept("Lot 2024/11/0457 sudah diperiksa"),
    # Models and codes
    kept("Keychron K2 masih mulus"),
    kept("iPhone 13 Pro 256GB, battery 89%"),
    kept("RTX 3060 12GB, used for 2 years", sender="US"),
    kept("Samsung S21 SM-G991B like new"),
    kept("CPU i7-12700K, RAM 32GB DDR4 3200MHz"),
    kept("Model: Honda Vario 125 2019"),
    kept("tele lens 70-200mm f/2.8"),
    # Postcodes, orders, plates, relay handles
    kept("kode pos 40115"),
    kept("ships from 94107 San Francisco", sender="US"),
    kept("invoice INV/20261201/0001 sudah dibayar"),
    kept("order #ORD-88231 shipped"),
    kept("resi JNE JP1234567890 sudah dikirim"),
    kept("plat D 1234 ABC, pajak hidup"),
    kept("kode 812 345 678"),
    kept("nomor antrian 123 456 789"),
    kept("K7Q2-MX9D is it still available?"),
    kept("#K7Q2 masih ada?"),
    # Quantities and years
    kept("ada 3 unit, masing-masing 2 kg"),
    kept("tahun 2019, pemakaian 2 tahun"),
    kept("ukuran 27.5 inch, berat 13.2 kg"),
    kept("odometer 45.000 km, servis rutin"),
    kept("stock 1.000 pcs, MOQ 50"),
    kept("size 42, 43, 44, 45 tersedia"),
    kept("dimensi 120 x 60 x 75 cm"),
    kept("seller rating 4.9/5 from 1,024 reviews"),
    # Number words in sentences
    kept("bisa dikirim satu atau dua hari lagi"),
    kept("I can do one or two days", sender="US"),
    kept("one owner, two keys, three services"),
    kept("satu dua tiga, siap kirim!"),
    kept("Oh, one more thing: is the price negotiable?"),
    # App names and addresses without a contact detail
    kept("Line: the blue one has a scratch"),
    kept("chat via WA aja kak"),
    kept("follow my IG for more photos"),
    kept("IG live jam 19.00 ya"),
    kept("email ke admin marketplace saja"),
    kept("meet at the station, dot on time"),
    kept("I saw it on instagram.com yesterday"),
    kept("ISBN 978-0-13-468599-1, cetakan 2019"),
    kept("barcode 8991002101234 di kemasan"),
    kept("versi 1.2.3, build 20261201"),
]

CORPUS = POSITIVES + NEGATIVES
