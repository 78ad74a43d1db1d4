"""The sign-ups phase's vocabulary: countries, names, devices, networks, campaigns and the demo reviewers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from accounts.models import RegistrationSignal, RegistrationStatus
from demo.core import Weighted

FRAUD_SHARE = 0.08
# The final campaign swamped the reviewers: most items queued this close to the end are still waiting.
BACKLOG_WINDOW = timedelta(hours=56)
BACKLOG_SHARE = 0.8
METRIC = "registration.approval"
Status = RegistrationStatus
Code = RegistrationSignal.Code


# --- Vocabulary -------------------------------------------------------------------------------------------


def _spaced(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


def _weighted(text: str) -> Weighted:
    """ "Gauteng:36, Western Cape:18" → a Weighted of the names."""
    pairs = [word.rsplit(":", 1) for word in _words(text)]
    return Weighted([(name, float(weight)) for name, weight in pairs])


@dataclass(frozen=True)
class Country:
    code: str
    weight: float
    tz: str
    dialling_code: str
    # Mobile prefixes after the country code, then subscriber digits: numbers valid for `phonenumbers`.
    mobile_prefixes: tuple[str, ...]
    subscriber_digits: int
    languages: Weighted
    regions: Weighted
    ipv4_blocks: tuple[str, ...]
    ipv6_blocks: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    email_domains: Weighted

    @classmethod
    def from_text(
        cls,
        *,
        code: str,
        weight: float,
        tz: str,
        dialling_code: str,
        subscriber_digits: int,
        mobile_prefixes: str,
        languages: str,
        regions: str,
        ipv4_blocks: str,
        ipv6_blocks: str,
        first_names: str,
        last_names: str,
        email_domains: str,
    ) -> Country:
        """Lists as text: names separated by commas, prefixes and blocks by spaces, weights after a colon."""
        return cls(
            code=code,
            weight=weight,
            tz=tz,
            dialling_code=dialling_code,
            mobile_prefixes=_spaced(mobile_prefixes),
            subscriber_digits=subscriber_digits,
            languages=_weighted(languages),
            regions=_weighted(regions),
            ipv4_blocks=_spaced(ipv4_blocks),
            ipv6_blocks=_spaced(ipv6_blocks),
            first_names=_words(first_names),
            last_names=_words(last_names),
            email_domains=_weighted(email_domains),
        )


GLOBAL_MAIL = "gmail.com:55, yahoo.com:12, outlook.com:8, hotmail.com:6, icloud.com:4"

COUNTRIES = (
    Country.from_text(
        code="ZA",
        weight=34,
        tz="Africa/Johannesburg",
        dialling_code="27",
        subscriber_digits=7,
        mobile_prefixes="60 61 62 63 64 65 66 67 71 72 73 74 76 78 79 81 82 83 84",
        languages="en:55, zu:18, af:15, xh:12",
        regions=(
            "Gauteng:36, Western Cape:18, KwaZulu-Natal:18, Eastern Cape:9, Limpopo:5, Mpumalanga:5, Free State:4, "
            "North West:3, Northern Cape:2"
        ),
        ipv4_blocks="41.13 41.113 105.224 102.132 196.215 197.229",
        ipv6_blocks="2c0f:f4c0 2001:4200",
        first_names=(
            "Thabo, Sipho, Lerato, Naledi, Ayanda, Thandiwe, Bongani, Zanele, Mpho, Kagiso, Pieter, Johan, Annelie, "
            "Nomvula, Sibusiso, Lindiwe, Themba, Precious, Karabo, Refilwe, Tshepo, Busisiwe, Jacques, Michelle, "
            "Ruan, Nokuthula, Lwazi, Palesa"
        ),
        last_names=(
            "Nkosi, Dlamini, Khumalo, Mokoena, Ndlovu, Mahlangu, Botha, van der Merwe, Naidoo, Pillay, Molefe, "
            "Mthembu, Sithole, Zulu, Radebe, Maseko, Pretorius, Venter, Mabuza, Ngcobo, Govender, Jacobs, Petersen, "
            "Baloyi, Maluleke"
        ),
        email_domains=(
            f"{GLOBAL_MAIL}, mweb.co.za:5, webmail.co.za:4, telkomsa.net:3, vodamail.co.za:2, afrihost.co.za:1"
        ),
    ),
    Country.from_text(
        code="NG",
        weight=30,
        tz="Africa/Lagos",
        dialling_code="234",
        subscriber_digits=7,
        mobile_prefixes=(
            "701 703 706 707 708 802 803 805 806 807 808 809 810 812 813 814 815 816 817 818 903 905 906 913 916"
        ),
        languages="en:60, yo:15, ha:15, ig:10",
        regions=(
            "Lagos:35, Federal Capital Territory:12, Rivers:9, Kano:8, Oyo:8, Kaduna:6, Enugu:6, Delta:6, "
            "Anambra:5, Ogun:5"
        ),
        ipv4_blocks="102.89 105.112 197.210 41.184 129.205",
        ipv6_blocks="2c0f:f5c0",
        first_names=(
            "Chinedu, Ngozi, Emeka, Adaeze, Oluwaseun, Funmilayo, Tunde, Yetunde, Ibrahim, Aisha, Musa, Hauwa, "
            "Chiamaka, Obinna, Kelechi, Bukola, Segun, Folake, Uche, Amaka, Abubakar, Zainab, Damilola, Tobi, "
            "Ifeoma"
        ),
        last_names=(
            "Okafor, Adeyemi, Okonkwo, Bello, Abubakar, Eze, Ogunleye, Nwosu, Balogun, Adebayo, Ibrahim, Chukwu, "
            "Olatunji, Mohammed, Okeke, Afolabi, Nnamdi, Obi, Lawal, Usman, Akinola, Ezeh, Onyeka, Danjuma, "
            "Oyelaran"
        ),
        email_domains=f"{GLOBAL_MAIL}, yahoo.co.uk:4, ymail.com:3",
    ),
    Country.from_text(
        code="KE",
        weight=16,
        tz="Africa/Nairobi",
        dialling_code="254",
        subscriber_digits=6,
        mobile_prefixes=(
            "700 701 702 703 704 705 706 707 708 709 710 711 712 713 714 715 720 721 722 723 724 725 726 727 728 "
            "729 740 741 742 743 745 746 748 757 758 759 768 769 790 791 792 793 794 795 796 797 798 799 110 111 "
            "112 113 114 115"
        ),
        languages="en:55, sw:45",
        regions="Nairobi:40, Mombasa:13, Kiambu:12, Nakuru:10, Kisumu:9, Uasin Gishu:8, Machakos:8",
        ipv4_blocks="41.90 105.163 197.248 102.167",
        ipv6_blocks="2c0f:fe38",
        first_names=(
            "Wanjiru, Kamau, Otieno, Achieng, Mwangi, Njeri, Kiprop, Chebet, Wafula, Akinyi, Muthoni, Kibet, "
            "Nyambura, Omondi, Jepchirchir, Brian, Faith, Kevin, Mercy, Dennis, Cynthia, Collins, Sharon, Ian, "
            "Wairimu"
        ),
        last_names=(
            "Kamau, Otieno, Mwangi, Ochieng, Kiprotich, Wanjala, Njoroge, Mutua, Kariuki, Onyango, Cheruiyot, "
            "Wambui, Odhiambo, Kimani, Macharia, Barasa, Korir, Nyaga, Owino, Ruto, Maina, Muriuki, Gitau, "
            "Kipchumba, Awuor"
        ),
        email_domains=GLOBAL_MAIL,
    ),
    Country.from_text(
        code="GH",
        weight=12,
        tz="Africa/Accra",
        dialling_code="233",
        subscriber_digits=7,
        mobile_prefixes="20 23 24 26 27 50 53 54 55 56 57",
        languages="en:70, ak:30",
        regions="Greater Accra:40, Ashanti:25, Western:8, Central:8, Eastern:7, Northern:6, Volta:6",
        ipv4_blocks="41.66 154.160 197.251 102.176",
        ipv6_blocks="2c0f:f7a8",
        first_names=(
            "Kwame, Ama, Kofi, Akosua, Yaw, Abena, Kojo, Efua, Kwabena, Adwoa, Kwaku, Afua, Nana, Esi, Yaa, Fiifi, "
            "Akua, Kweku, Mawuli, Selasi, Dzifa, Elikem, Naa, Nii, Ekow"
        ),
        last_names=(
            "Mensah, Owusu, Boateng, Asante, Osei, Agyeman, Appiah, Addo, Amoah, Darko, Ofori, Quaye, Tetteh, "
            "Acheampong, Sarpong, Adjei, Ansah, Nkrumah, Bonsu, Frimpong, Quartey, Amankwah, Annan, Ampofo, Danso"
        ),
        email_domains=f"{GLOBAL_MAIL}, yahoo.co.uk:3",
    ),
    Country.from_text(
        code="EG",
        weight=8,
        tz="Africa/Cairo",
        dialling_code="20",
        subscriber_digits=8,
        mobile_prefixes="10 11 12 15",
        languages="ar:80, en:20",
        regions="Cairo:35, Giza:20, Alexandria:18, Dakahlia:7, Sharqia:7, Qalyubia:7, Gharbia:6",
        ipv4_blocks="41.33 156.197 197.46 102.40",
        ipv6_blocks="2c0f:fc89",
        first_names=(
            "Ahmed, Mohamed, Mahmoud, Mostafa, Omar, Youssef, Karim, Amr, Tarek, Hany, Fatma, Mariam, Nour, Salma, "
            "Yasmin, Aya, Heba, Dina, Rania, Mona, Sherif, Hossam, Reem, Laila, Khaled"
        ),
        last_names=(
            "Hassan, Ali, Ibrahim, Mahmoud, Abdelrahman, El-Sayed, Mostafa, Farouk, Saleh, Mansour, Fathy, Hamdy, "
            "Gamal, Nabil, Soliman, Abdallah, Ragab, Shaker, Hegazy, Khalil, Youssef, Zaki, Osman, Radwan, Naguib"
        ),
        email_domains=GLOBAL_MAIL,
    ),
)
COUNTRY_PICK = Weighted([(country, country.weight) for country in COUNTRIES])

# The device mix follows from the user agents (classified by accounts.identity, as for real sign-ups).
USER_AGENTS = Weighted(
    [
        (
            "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.6367.82 Mobile Safari/537.36",
            14,
        ),
        (
            "Mozilla/5.0 (Linux; Android 12; TECNO KG5m) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/122.0.6261.105 Mobile Safari/537.36",
            12,
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; Infinix X6833B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/123.0.6312.99 Mobile Safari/537.36",
            11,
        ),
        (
            "Mozilla/5.0 (Linux; Android 11; itel A571W) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.6099.230 Mobile Safari/537.36",
            8,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-A245F) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/125.0.6422.53 Mobile Safari/537.36",
            9,
        ),
        (
            "Mozilla/5.0 (Linux; Android 12; Redmi Note 11) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/121.0.6167.178 Mobile Safari/537.36",
            7,
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; HUAWEI Y6p) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/119.0.6045.193 Mobile Safari/537.36",
            4,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4.1 Mobile/15E148 Safari/604.1",
            8,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/16.6 Mobile/15E148 Safari/604.1",
            4,
        ),
        ("Mozilla/5.0 (Mobile; Nokia 8110 4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5", 1),
        (
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/16.6 Mobile/15E148 Safari/604.1",
            2,
        ),
        (
            "Mozilla/5.0 (Linux; Android 12; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/121.0.6167.164 Safari/537.36",
            3,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            8,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
            3,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Safari/605.1.15",
            2,
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", 1),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            1,
        ),
        (
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 "
            "Chrome/76.0.3809.146 TV Safari/537.36",
            1,
        ),
    ]
)
BOT_USER_AGENTS = Weighted(
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 "
            "Safari/537.36",
            5,
        ),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0", 3),
        ("python-requests/2.31.0", 2),
        ("curl/8.4.0", 1),
    ]
)
# Hosting networks (/24) that sign-up bursts and bots come from.
HOSTING_NETWORKS = _spaced("45.133.1 91.92.109 185.244.25 194.87.31 5.188.62 141.98.10 193.32.162 45.146.165")
FRAUD_DOMAINS = _weighted(
    "mailinator.com:6, yopmail.com:4, guerrillamail.com:3, 10minutemail.com:2, sharklasers.com:2, temp-mail.org:2, "
    "dispostable.com:1, maildrop.cc:1"
)
# AgeBand values with their weights.
AGE_BANDS = _weighted("18-24:25, 25-34:35, 35-44:20, 45-54:10, 55-64:5, 65+:2, na:3")
CAMPAIGN_CODES = ("PAYDAY-DEALS", "MEGA-WEEKEND", "FREE-LISTING", "BACK-TO-SCHOOL", "SELL-YOUR-STUFF", "REFER-A-FRIEND")
# Sign-ups per local hour (0–23): quiet at night, a lunch bump, the peak in the evening.
HOUR_WEIGHTS = tuple(
    map(float, _spaced("0.6 .35 .25 .2 .25 .5 1 1.6 2 2.2 2.3 2.3 2.6 2.5 2.2 2.1 2.3 2.7 3.2 3.8 4 3.6 2.6 1.4"))
)
FRAUD_HOUR_WEIGHTS = (1.6, 1.8, 1.8, 1.6, 1.4, 1.2, *([1.0] * 18))
WEEKDAY_WEIGHTS = (1.05, 1.0, 1.0, 0.97, 0.92, 0.85, 1.0)

# The demo's own reviewers, to spread decisions; `ensure_staff` owns reviewer@saypro.example.
REVIEWERS = (
    ("reviewer2@saypro.example", "Naledi Mokoena"),
    ("reviewer3@saypro.example", "Chinedu Okafor"),
    ("reviewer4@saypro.example", "Wanjiru Kamau"),
    ("reviewer5@saypro.example", "Kwame Mensah"),
)
REJECT_REASONS: dict[str, str] = {
    Code.BLOCK_RULE: "Matches a block rule for known abuse.",
    Code.HONEYPOT: "Automated sign-up.",
    Code.REREGISTRATION: "This identity was rejected before.",
    Code.DISPOSABLE_EMAIL: "Disposable e-mail address: sign up with a permanent address.",
    Code.DUPLICATE_EMAIL: "An account with this e-mail address already exists.",
    Code.DUPLICATE_PHONE: "This phone number belongs to another account.",
    Code.TOO_FAST: "Automated sign-up.",
    Code.IP_VELOCITY: "Part of a burst of automated sign-ups from one network.",
    Code.SUBNET_VELOCITY: "Part of a burst of automated sign-ups from one network.",
    Code.UNVERIFIED: "The phone number could not be verified.",
    Code.INCOMPLETE_PROFILE: "The profile is incomplete.",
}
APPROVE_REASONS: dict[str, str] = {
    Code.DUPLICATE_PHONE: "Shared family phone confirmed by the applicant.",
    Code.VERIFICATION_UNAVAILABLE: "Phone verified by a call after the SMS outage.",
    Code.UNVERIFIED: "Phone verified by a call.",
    Code.INCOMPLETE_PROFILE: "Profile completed on request.",
    Code.HONEYPOT: "The browser's autofill filled the hidden field; the applicant is genuine.",
}
INFO_REQUESTS: dict[str, tuple[str, str]] = {
    Code.DUPLICATE_PHONE: (
        "Another account uses this phone number. Who else uses it?",
        "It is my mother's phone; we share it.",
    ),
    Code.INCOMPLETE_PROFILE: ("Please add your region and age band to your profile.", "Done, profile updated."),
}
DEFAULT_INFO_REQUEST = ("Please upload a photo of your ID document.", "Uploaded my ID, thank you.")
OTHER_DELAY_NOTES = (
    "Reviewer off sick; the queue was reassigned late.",
    "Escalated to the compliance lead.",
    "Waited for a second opinion on the documents.",
)
