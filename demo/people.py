"""The demo: two residency programs at Lakeside University Hospital, with people in every role.

``demo_cast()`` describes everyone as plain data, drawn from a fixed random seed without
touching the database, so the demo is the same on every machine. ``seed_demo()`` writes
what is missing and leaves what exists alone: running it twice changes nothing, and
edits made while exploring the demo survive a re-run.

Busy blocks are stored as offsets from the week the demo is seeded, so they are always
in the near future whenever the demo is set up.
"""

import dataclasses
import random
import re
import secrets
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    AcademicRank,
    AvailabilityWindow,
    BusyBlock,
    BusyCalendar,
    CareerStage,
    Goal,
    Institution,
    Interest,
    Language,
    MeetingFormat,
    Membership,
    MenteeProfile,
    MentorProfile,
    Program,
    Specialty,
    User,
)
from matching.models import CalendarFeed

DEMO_PASSWORD = "mentormatch-demo"
DEMO_DOMAIN = "demo.mentormatch.org"
RANDOM_SEED = 20250701
INSTITUTION = "Lakeside University Hospital"

RESIDENT = Membership.Role.RESIDENT
FACULTY = Membership.Role.FACULTY
COORDINATOR = Membership.Role.COORDINATOR


@dataclass(frozen=True)
class ProgramSpec:
    slug: str
    name: str
    specialty: str  # Specialty slug
    time_zone: str


PROGRAMS = [
    ProgramSpec("im", "Internal Medicine Residency", "internal-medicine", "America/New_York"),
    ProgramSpec("gs", "General Surgery Residency", "general-surgery", "America/Chicago"),
]
TIME_ZONES = {p.slug: p.time_zone for p in PROGRAMS}


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    what_to_try: str


DEMO_LOGINS = [
    DemoLogin(
        f"resident@{DEMO_DOMAIN}",
        "Resident: Internal Medicine, PGY-1",
        'Finish your profile (one item left), find a mentor and send a request; an earlier one was declined, with an unread message from Dr. Iyer in its thread; busy time imported from an "Amion" calendar and your calendar feed on My profile',
    ),
    DemoLogin(
        f"attending@{DEMO_DOMAIN}",
        "Attending: IM cardiology",
        "Two requests waiting for you; your mentee's page: agreement, goals, meetings, messages; your calendar feed; "
        "your mentoring portfolio",
    ),
    DemoLogin(
        f"coordinator@{DEMO_DOMAIN}",
        "Coordinator: IM and Surgery",
        "Program health, pairings, start a PGY-1 match run and publish it, conflicts of interest, the audit trail",
    ),
    DemoLogin(
        f"nearpeer@{DEMO_DOMAIN}",
        "Surgery PGY-4 and near-peer mentor",
        'One person, two hats: the dashboard shows what needs you as mentor and as mentee; an intern still to pick one of the meeting times you proposed; your completed mentorship; busy time from a "QGenda" calendar',
    ),
    DemoLogin(f"admin@{DEMO_DOMAIN}", "Superuser", "The admin at /admin/, the API at /api/docs/"),
]

WELLNESS = "Wellness and work–life balance"
QI = "Quality improvement and patient safety"
DEI = "Diversity, equity and inclusion"


# --- The cast, as plain data.


@dataclass
class MenteeSpec:
    stage: str  # CareerStage code
    goals: list[str]
    interests: list[str]
    subspecialty_interests: list[str]  # Specialty slugs
    languages: list[str]  # ISO codes
    formats: list[str]  # MeetingFormat slugs
    goals_text: str = ""
    bio: str = ""


@dataclass
class MentorSpec:
    specialty: str  # Specialty slug
    subspecialty: str | None
    rank: str | None  # AcademicRank name
    stage: str | None  # CareerStage code, for near-peer and junior mentors
    capacity: int
    accepting: bool
    languages: list[str]
    formats: list[str]
    expertise: list[str]
    interests: list[str]
    bio: str


@dataclass
class Person:
    email: str
    first_name: str
    last_name: str
    time_zone: str
    roles: list[tuple[str, str]]  # (program slug, Membership role)
    mentee: MenteeSpec | None = None
    mentor: MentorSpec | None = None
    windows: list[tuple[int, time, time]] = field(default_factory=list)
    busy: list[tuple[int, int, str]] = field(default_factory=list)  # (first day from this Monday, days, label)
    is_superuser: bool = False
    last_seen_hours_ago: int | None = None


def _t(hhmm: str) -> time:
    return time.fromisoformat(hhmm)


def _slots(days, start, end):
    return [(d, _t(start), _t(end)) for d in days]


WEEKDAYS, MON_THU = range(5), range(4)
# Weekly windows people pick from. Within a pool no two windows on the same day
# overlap or touch, so any sample of them is already what availability_replace keeps.
WINDOW_POOLS = {
    ("im", RESIDENT): (
        _slots(WEEKDAYS, "06:15", "07:00")  # before pre-rounding
        + _slots(WEEKDAYS, "18:30", "20:00")  # after sign-out
        + _slots([5], "09:00", "11:00")
        + _slots([5], "14:00", "16:00")
        + _slots([6], "10:00", "12:00")
        + _slots([6], "16:00", "18:00")
    ),
    ("gs", RESIDENT): (
        _slots([2], "12:00", "13:00")  # after M&M on education day
        + _slots(WEEKDAYS, "19:00", "20:30")
        + _slots([5], "08:00", "10:00")
        + _slots([5], "15:00", "17:00")
        + _slots([6], "09:00", "11:00")
        + _slots([6], "17:00", "19:00")
    ),
    ("im", FACULTY): (
        _slots(WEEKDAYS, "07:00", "08:00")
        + _slots(WEEKDAYS, "12:00", "13:00")
        + _slots(WEEKDAYS, "16:30", "17:30")
        + _slots(MON_THU, "19:00", "20:00")  # video from home
        + _slots([4], "13:30", "15:30")  # Friday academic afternoon
    ),
    ("gs", FACULTY): (
        _slots(WEEKDAYS, "06:00", "06:45")  # before the first case
        + _slots(WEEKDAYS, "17:30", "18:30")
        + _slots([2], "12:00", "13:00")
        + _slots([5], "08:00", "09:30")  # after Saturday rounds
    ),
}

BUSY_LABELS = {
    ("im", RESIDENT): [
        ("Night float", 14),
        ("MICU month", 28),
        ("CCU month", 28),
        ("Vacation", 7),
        ("Night float", 14),
    ],
    ("gs", RESIDENT): [
        ("Trauma nights", 14),
        ("SICU month", 28),
        ("Night float", 14),
        ("Vacation", 7),
        ("Away rotation", 28),
    ],
    ("im", FACULTY): [("On service (wards)", 14), ("Vacation", 7), ("MICU attending week", 7), ("National meeting", 4)],
    ("gs", FACULTY): [("Trauma call week", 7), ("Vacation", 7), ("National meeting", 4)],
}

# Subspecialties residents say they are considering, with the words they would use.
SUBSPECIALTY_WORDS = {
    "im": {
        "internal-medicine-cardiovascular-disease": "cardiology",
        "internal-medicine-gastroenterology": "GI",
        "internal-medicine-hematology-and-medical-oncology": "heme/onc",
        "internal-medicine-infectious-disease": "ID",
        "internal-medicine-nephrology": "nephrology",
        "internal-medicine-pulmonary-disease-and-critical-care-medicine": "pulm/crit",
        "internal-medicine-rheumatology": "rheumatology",
        "internal-medicine-endocrinology-diabetes-and-metabolism": "endocrinology",
        "internal-medicine-geriatric-medicine": "geriatrics",
        "internal-medicine-hospice-and-palliative-medicine": "palliative care",
    },
    "gs": {
        "general-surgery-complex-general-surgical-oncology": "surgical oncology",
        "general-surgery-vascular-surgery": "vascular surgery",
        "general-surgery-pediatric-surgery": "pediatric surgery",
        "general-surgery-surgical-critical-care": "trauma and critical care",
        "general-surgery-hand-surgery": "hand surgery",
        "plastic-surgery": "plastics",
        "thoracic-surgery": "cardiothoracic surgery",
        "colon-and-rectal-surgery": "colorectal surgery",
    },
}

INTEREST_POOLS = {
    "im": [
        "Addiction",
        "Artificial intelligence",
        "Cardiology",
        "Clinical trials",
        "Critical care",
        "Digital health",
        "Ethics",
        "Geriatrics",
        "Health equity",
        "Hospital medicine",
        "Immigrant health",
        "Infectious disease",
        "LGBTQ+ health",
        "Medical education",
        "Nephrology",
        "Oncology",
        "Palliative care",
        "Physician wellness",
        "Point-of-care ultrasound",
        "Public health",
        "Pulmonology",
        "Quality improvement",
        "Rural health",
        "Women's health",
    ],
    "gs": [
        "Critical care",
        "Disaster medicine",
        "Endoscopy",
        "Health equity",
        "Health services research",
        "Medical education",
        "Minimally invasive surgery",
        "Nutrition",
        "Oncology",
        "Patient safety",
        "Pediatrics",
        "Physician wellness",
        "Procedures",
        "Quality improvement",
        "Robotic surgery",
        "Rural health",
        "Simulation",
        "Surgical education",
        "Transplant",
        "Trauma",
    ],
}

# What residents at each stage most often come to mentorship for.
STAGE_GOALS = {
    "PGY-1": ["Clinical skills", WELLNESS, "Career planning", "Board preparation", "Networking"],
    "PGY-2": ["Fellowship application", "Research", "Career planning", "Teaching", QI],
    "PGY-3": [
        "Fellowship application",
        "Job search and contracts",
        "Leadership",
        "Academic medicine",
        "Private practice",
    ],
    "PGY-4": ["Fellowship application", "Research", "Leadership", "Academic medicine", "Job search and contracts"],
    "PGY-5": [
        "Job search and contracts",
        "Fellowship application",
        "Private practice",
        "Academic medicine",
        "Leadership",
    ],
}
ALL_GOALS = [
    "Career planning",
    "Fellowship application",
    "Research",
    "Clinical skills",
    "Leadership",
    "Teaching",
    WELLNESS,
    QI,
    "Academic medicine",
    "Private practice",
    "Global health",
    "Board preparation",
    "Networking",
    DEI,
    "Advocacy and health policy",
    "Job search and contracts",
]

# A resident's own words for their main goal. {leaning}: where they are heading;
# {interest}: one of their interests; {field}: a subspecialty or an interest.
GOAL_TEXTS = {
    "Career planning": (
        "{leaning}, and I'd like help working out what the next few years should look like from someone who "
        "has watched a lot of residents choose."
    ),
    "Fellowship application": (
        "{leaning}. I want to know what makes an application competitive: which electives, who to ask for "
        "letters, and how to fit in a project before applications open."
    ),
    "Research": (
        "I haven't done research since medical school. I'd like a realistic project I can finish during "
        "residency, ideally in {interest}, and help getting it written up."
    ),
    "Clinical skills": (
        "I want someone to debrief hard cases with and to give me honest feedback on my clinical reasoning, "
        "not just on my notes."
    ),
    "Leadership": (
        "I'm thinking about chief year and want to learn how to lead a team, run a meeting and give feedback "
        "that lands."
    ),
    "Teaching": "I love teaching students on the team and want to build that into a clinician-educator career.",
    WELLNESS: (
        "I'm trying to work out how people sustain this career. I'd value a mentor who is candid about call, "
        "family and keeping a life outside the hospital."
    ),
    QI: (
        "I have a QI idea about {interest} on our service and need help turning it into a real project with "
        "data behind it."
    ),
    "Academic medicine": (
        "I want to stay in academics and would like to understand how people find their niche and get promoted."
    ),
    "Private practice": (
        "I'm drawn to community practice and want to hear how the job, the schedule and the money really work."
    ),
    "Global health": (
        "I worked abroad before medical school and want to keep global health in my career without giving up "
        "clinical time."
    ),
    "Board preparation": (
        "My in-training exam score was lower than I'd like. I need a study plan that survives this schedule."
    ),
    "Networking": (
        "I don't know many people in {field} yet. I'd like introductions and advice on which meetings are "
        "worth going to."
    ),
    DEI: (
        "As a first-generation physician I'd value a mentor who knows that path, and I want to get involved "
        "in pipeline programs."
    ),
    "Advocacy and health policy": (
        "I care about {interest} and want to learn how physicians get involved in policy without burning out."
    ),
    "Job search and contracts": (
        "I'm starting to look at jobs and have no idea how to compare offers or negotiate a contract."
    ),
}

FIRST_NAMES = [
    "Aisha",
    "Omar",
    "Arjun",
    "Mei",
    "Jin",
    "Hyun-woo",
    "Seo-yeon",
    "Thanh",
    "Linh",
    "Mateo",
    "Valentina",
    "Diego",
    "Camila",
    "Gabriela",
    "Kwame",
    "Ama",
    "Chidi",
    "Ngozi",
    "Tunde",
    "Layla",
    "Hassan",
    "Noor",
    "Emily",
    "Michaela",
    "Sarah",
    "James",
    "Hannah",
    "Benjamin",
    "Rachel",
    "Ethan",
    "Olivia",
    "Noah",
    "Claire",
    "Jasmine",
    "Andre",
    "Keisha",
    "Imani",
    "Kofi",
    "Dmitri",
    "Anya",
    "Ravi",
    "Ananya",
    "Vikram",
    "Sanjana",
    "Farah",
    "Mariam",
    "José",
    "Isabel",
    "Miguel",
    "Yuki",
    "Haruto",
    "Amir",
    "Reza",
    "Tomasz",
    "Katarzyna",
    "Patrick",
    "Siobhan",
    "Liam",
    "Aoife",
    "Matteo",
    "Giulia",
    "Camille",
    "Esther",
    "Ruth",
    "Abebe",
    "Selam",
    "Tariq",
    "Zainab",
    "Kai",
    "Leilani",
    "Beatriz",
    "Ibrahim",
    "Amara",
    "Min-ji",
    "Rohan",
    "Meera",
    "Lucas",
]
LAST_NAMES = [
    "Tran",
    "Shah",
    "Park",
    "Li",
    "Liu",
    "Garcia",
    "Rodriguez",
    "Martinez",
    "Lopez",
    "Gonzalez",
    "Okonkwo",
    "Mensah",
    "Owusu",
    "Nwosu",
    "Abdullah",
    "Khalil",
    "Hussain",
    "Cohen",
    "Friedman",
    "Smith",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "White",
    "Harris",
    "Clark",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Nelson",
    "Hill",
    "Campbell",
    "Roberts",
    "Phillips",
    "Evans",
    "Torres",
    "Parker",
    "Collins",
    "Stewart",
    "Murphy",
    "Cooper",
    "Bailey",
    "Gomez",
    "Kelly",
    "Ward",
    "Diaz",
    "Brooks",
    "Bennett",
    "Cruz",
    "Hughes",
    "Sullivan",
    "Ortiz",
    "Jenkins",
    "Gutierrez",
    "Coleman",
    "Novak",
    "Ivanova",
    "Yamamoto",
    "Sato",
    "Singh",
    "Gupta",
    "Reddy",
    "Menon",
    "Banerjee",
    "Chowdhury",
    "Ahmed",
    "Mahmoud",
    "Dubois",
    "Rossi",
    "O'Brien",
    "Kaur",
]
# Second languages residents list, weighted roughly by how often they come up.
RESIDENT_LANGUAGES = (
    ["es"] * 8
    + ["zh"] * 3
    + ["hi"] * 3
    + ["ar"] * 2
    + ["fr"] * 2
    + [
        "vi",
        "ko",
        "tl",
        "ur",
        "pt",
        "ru",
        "bn",
        "gu",
        "pa",
        "fa",
        "yo",
        "ig",
        "am",
        "ht",
        "pl",
        "it",
        "he",
        "ja",
        "ase",
    ]
)

# (program, stage, how many): IM is a three-year program, surgery five.
RESIDENT_COHORTS = [
    ("im", "PGY-1", 13),
    ("im", "PGY-2", 11),
    ("im", "PGY-3", 10),
    ("gs", "PGY-1", 7),
    ("gs", "PGY-2", 5),
    ("gs", "PGY-3", 5),
    ("gs", "PGY-4", 3),
    ("gs", "PGY-5", 4),
]


def _email(first: str, last: str) -> str:
    local = f"{first}.{last}".lower()
    local = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    local = re.sub(r"[^a-z0-9.-]", "", local.replace(" ", "-"))
    return f"{local}@{DEMO_DOMAIN}"


def _phrase(word: str) -> str:
    # "Critical care" reads "critical care" mid-sentence; "LGBTQ+ health" keeps its capitals.
    first, _, rest = word.partition(" ")
    return word if first[:2].isupper() else word[0].lower() + word[1:]


def _mentor(
    first,
    last,
    program,
    specialty,
    subspecialty,
    rank,
    capacity,
    languages,
    formats,
    expertise,
    interests,
    bio,
    *,
    accepting=True,
    stage=None,
    email=None,
):
    return Person(
        email=email or _email(first, last),
        first_name=first,
        last_name=last,
        time_zone=TIME_ZONES[program],
        roles=[(program, FACULTY)],
        mentor=MentorSpec(
            specialty=specialty,
            subspecialty=subspecialty,
            rank=rank,
            stage=stage,
            capacity=capacity,
            accepting=accepting,
            languages=languages.split(),
            formats=formats.split(),
            expertise=expertise,
            interests=interests,
            bio=bio,
        ),
    )


IM, GS = "internal-medicine", "general-surgery"
ASST, ASSOC, PROF, INSTR = "Assistant Professor", "Associate Professor", "Professor", "Instructor"

# fmt: off
MENTORS = [
    _mentor("Elena", "Vasquez", "im", IM, "internal-medicine-cardiovascular-disease", ASSOC, 3, "en es",
            "in-person video",
            ["Fellowship application", "Research", "Career planning", DEI],
            ["Cardiology", "Clinical trials", "Health equity", "Point-of-care ultrasound"],
            "I'm a general cardiologist and I read a lot of cardiology fellowship applications, so I can tell you what "
            "stands out. I like helping residents find a research question they care about and actually finish it. "
            "Hablo español, and I'm happy to meet for coffee before clinic or by video in the evening.",
            email=f"attending@{DEMO_DOMAIN}"),
    _mentor("Rajesh", "Iyer", "im", IM, "internal-medicine-pulmonary-disease-and-critical-care-medicine", PROF, 2,
            "en hi ta", "in-person",
            ["Clinical skills", "Academic medicine", "Leadership", "Research"],
            ["Critical care", "Pulmonology", "Point-of-care ultrasound", "Clinical trials"],
            "I direct the MICU and have run ARDS trials for fifteen years. Bring me your sickest case and your "
            "hardest career question; I'm better at the bedside than on Zoom."),
    _mentor("Wei", "Zhang", "im", IM, "internal-medicine-hematology-and-medical-oncology", ASST, 3, "en zh",
            "video phone",
            ["Fellowship application", "Research", WELLNESS],
            ["Oncology", "Clinical trials", "Artificial intelligence"],
            "Heme/onc with a lab that uses machine learning on pathology slides. I matched into fellowship as an IMG "
            "and am glad to share what I learned. 我也会说中文。"),
    _mentor("Grace", "Thompson", "im", IM, None, ASST, 4, "en", "in-person video phone",
            ["Teaching", "Clinical skills", WELLNESS, "Career planning"],
            ["Hospital medicine", "Medical education", "Physician wellness"],
            "Hospitalist and clerkship co-director. If you like teaching, I'll help you turn it into a career; if "
            "you're exhausted, I'll help you figure out why. Mornings before rounds work well for me."),
    _mentor("Omar", "Haddad", "im", IM, "internal-medicine-nephrology", ASSOC, 2, "en ar fr", "in-person phone",
            ["Fellowship application", "Academic medicine", "Global health"],
            ["Nephrology", "Transplant", "Public health"],
            "Transplant nephrologist. I trained in Beirut and Paris before coming here, and I enjoy helping residents "
            "who are weighing an academic career against everything else life asks of them."),
    _mentor("Margaret", "O'Connor", "im", IM, "internal-medicine-geriatric-medicine", PROF, 1, "en", "in-person phone",
            ["Academic medicine", "Leadership", "Career planning"],
            ["Geriatrics", "Palliative care", "Ethics"],
            "Thirty years in geriatrics, ten as division chief. I take one mentee at a time and we meet every month, "
            "without fail."),
    _mentor("Luis", "Hernandez", "im", IM, "internal-medicine-infectious-disease", ASST, 3, "en es pt",
            "video in-person",
            ["Global health", "Research", DEI, "Networking"],
            ["Infectious disease", "Immigrant health", "Public health", "Health equity"],
            "ID doctor with an HIV clinic here and a research site in Recife. I can connect you with people doing "
            "global health work and help you figure out how to fund it."),
    _mentor("Aisha", "Bello", "im", IM, "internal-medicine-gastroenterology", ASSOC, 2, "en yo", "in-person video",
            ["Fellowship application", "Clinical skills", DEI],
            ["Endoscopy", "Health equity", "Procedures"],
            "Gastroenterologist and advanced endoscopist. I chair our minority faculty network and I'm happy to talk "
            "about GI, procedures, or being the only one in the room."),
    _mentor("David", "Goldberg", "im", IM, "internal-medicine-interventional-cardiology", PROF, 2, "en he", "in-person",
            ["Clinical skills", "Leadership", "Private practice"],
            ["Cardiology", "Procedures"],
            "Interventional cardiologist. I'm on sabbatical this year, so I'm not taking new mentees until July.",
            accepting=False),
    _mentor("Mei Lin", "Chen", "im", IM, "internal-medicine-endocrinology-diabetes-and-metabolism", ASST, 2,
            "en zh yue", "video phone",
            ["Research", "Career planning", WELLNESS],
            ["Nutrition", "Digital health", "Women's health"],
            "Endocrinologist working on diabetes technology. Two young kids, part-time research, and honest answers "
            "about what that combination looks like."),
    _mentor("Samuel", "Osei", "im", IM, None, INSTR, 3, "en", "in-person video",
            [QI, "Teaching", "Board preparation"],
            ["Quality improvement", "Patient safety", "Hospital medicine"],
            "Hospitalist two years out of residency and our QI lead. I remember boards and I remember what a good "
            "QI project needs; I can help with both.",
            stage="JUNIOR-FACULTY"),
    _mentor("Fatima", "Rahman", "im", IM, "internal-medicine-hospice-and-palliative-medicine", ASSOC, 2, "en bn ur",
            "in-person phone",
            [WELLNESS, "Clinical skills", "Teaching"],
            ["Palliative care", "Ethics", "Physician wellness"],
            "Palliative care physician. I teach the family-meeting workshop and love talking about hard conversations, "
            "grief, and how we look after ourselves doing this work."),
    _mentor("Thomas", "Becker", "im", IM, "internal-medicine-rheumatology", PROF, 1, "en de", "in-person",
            ["Academic medicine", "Research"],
            ["Clinical trials", "Women's health"],
            "Rheumatologist. My one mentee slot is taken this year, but ask me about lupus trials anytime.",
            accepting=False),
    _mentor("Nadia", "Petrova", "im", IM, "internal-medicine-pulmonary-disease-and-critical-care-medicine", ASST, 2,
            "en ru", "video",
            ["Fellowship application", "Clinical skills", "Board preparation"],
            ["Critical care", "Point-of-care ultrasound", "Simulation"],
            "Intensivist and ultrasound nerd. I run the POCUS elective and I'm glad to help you get your scanning "
            "and your fellowship application in shape."),
    _mentor("Anh", "Nguyen", "im", IM, None, ASSOC, 3, "en vi", "in-person video phone",
            ["Career planning", "Private practice", "Advocacy and health policy"],
            ["Immigrant health", "Public health", "Health equity", "Geriatrics"],
            "Primary care internist at our community health center. I talk with a lot of residents deciding between "
            "primary care, hospital medicine and fellowship, and I'll tell you what each job is really like."),
    _mentor("Jean-Pierre", "Baptiste", "im", IM, "internal-medicine-critical-care-medicine", INSTR, 2, "en fr ht",
            "video phone",
            ["Clinical skills", DEI, WELLNESS],
            ["Critical care", "Immigrant health", "Physician wellness"],
            "First-year critical care attending. I grew up in Port-au-Prince and trained here; happy to talk about the "
            "ICU, being an international graduate, or surviving nights.",
            stage="JUNIOR-FACULTY"),
    _mentor("Karen", "Mitchell", "im", IM, None, PROF, 0, "en", "in-person",
            ["Leadership", "Academic medicine"],
            ["Medical education"],
            "Program director. Because I evaluate every resident, I don't serve as anyone's mentor, but my door is "
            "open and I'm happy to make introductions.",
            accepting=False),
    # Near-peer mentors in medicine: a chief resident and a GI fellow.
    _mentor("Daniel", "Kim", "im", IM, None, None, 3, "en ko", "in-person video",
            ["Board preparation", "Teaching", WELLNESS, "Leadership"],
            ["Medical education", "Hospital medicine", "Physician wellness"],
            "Chief resident. Intern year was a year ago for me; I'm good for the practical stuff: schedules, boards, "
            "presentations, and finding your people.",
            stage="PGY-4"),
    _mentor("Sofia", "Romero", "im", IM, "internal-medicine-gastroenterology", None, 2, "en es", "video phone",
            ["Fellowship application", "Research"],
            ["Endoscopy", "Nutrition"],
            "Second-year GI fellow. I went through the fellowship match two years ago and remember every step.",
            stage="FELLOW"),
    # Surgery.
    _mentor("Michael", "Turner", "gs", GS, "general-surgery-surgical-critical-care", ASSOC, 3, "en", "in-person phone",
            ["Clinical skills", "Leadership", WELLNESS],
            ["Trauma", "Critical care", "Disaster medicine"],
            "Trauma and acute care surgeon, former Army surgeon. I'll help you get better in the OR and calmer in the "
            "trauma bay."),
    _mentor("Ana Lucía", "Morales", "gs", GS, "general-surgery-complex-general-surgical-oncology", PROF, 2, "en es",
            "in-person video",
            ["Research", "Academic medicine", "Fellowship application", DEI],
            ["Oncology", "Health services research", "Health equity"],
            "Surgical oncologist (HPB). I run an outcomes research group and have sent many residents into their lab "
            "years with a real project. También hablo español."),
    _mentor("Kenji", "Tanaka", "gs", GS, "general-surgery-pediatric-surgery", ASSOC, 2, "en ja", "video",
            ["Fellowship application", "Clinical skills", "Teaching"],
            ["Pediatrics", "Minimally invasive surgery", "Simulation"],
            "Pediatric surgeon. Peds surgery is a long road and a competitive match; I can help you decide whether "
            "it's for you and plan backwards from there."),
    _mentor("Hannah", "Fischer", "gs", GS, "general-surgery-vascular-surgery", ASST, 3, "en de", "in-person video",
            ["Career planning", "Research", WELLNESS],
            ["Procedures", "Minimally invasive surgery", "Rural health"],
            "Vascular surgeon, mother of three, marathoner. Ask me about endovascular work, or about fitting a life "
            "around a surgical career."),
    _mentor("Marcus", "Johnson", "gs", GS, None, ASST, 4, "en", "in-person video phone",
            [DEI, "Networking", "Clinical skills", "Job search and contracts"],
            ["Robotic surgery", "Minimally invasive surgery", "Surgical education"],
            "General and robotic surgeon. I was the first doctor in my family and I mentor a lot of residents who "
            "are too; I'll introduce you to anyone I know."),
    _mentor("Priya", "Nair", "gs", GS, "general-surgery-complex-general-surgical-oncology", ASST, 2, "en hi",
            "video phone",
            ["Fellowship application", "Research", WELLNESS],
            ["Oncology", "Women's health", "Clinical trials"],
            "Breast surgical oncologist. Happy to talk about the breast fellowship match, clinical trials, and being a "
            "surgeon and a parent."),
    _mentor("Robert", "Hale", "gs", GS, "general-surgery-hand-surgery", PROF, 0, "en", "in-person",
            ["Clinical skills"],
            ["Procedures", "Surgical education"],
            "Hand surgeon, retiring next spring. No new mentees, but you're welcome in my clinic on Thursdays.",
            accepting=False),
    _mentor("Leila", "Karimi", "gs", GS, None, ASSOC, 2, "en fa", "in-person video",
            ["Academic medicine", "Research", "Leadership"],
            ["Transplant", "Health services research", "Patient safety"],
            "Transplant surgeon and associate dean for research. I can help you plan research years and find funding."),
    _mentor("Carlos", "Mendoza", "gs", GS, "general-surgery-surgical-critical-care", INSTR, 3, "en es", "video phone",
            ["Global health", "Clinical skills", WELLNESS],
            ["Trauma", "Critical care", "Rural health", "Disaster medicine"],
            "Trauma surgeon, one year out of fellowship. I spend a month a year operating in Guatemala and I'm always "
            "looking for residents who want to come.",
            stage="JUNIOR-FACULTY"),
    _mentor("Yusuf", "Abdi", "gs", GS, None, ASST, 2, "en ar", "phone video",
            ["Private practice", "Job search and contracts", "Career planning"],
            ["Rural health", "Endoscopy", "Procedures"],
            "I spent eight years in private practice in a rural hospital before joining the faculty. Ask me about "
            "contracts, call schedules and what community surgery is really like."),
    _mentor("Emily", "Carter", "gs", "colon-and-rectal-surgery", None, ASSOC, 2, "en fr", "in-person video",
            ["Fellowship application", QI, "Teaching"],
            ["Minimally invasive surgery", "Quality improvement", "Endoscopy"],
            "Colorectal surgeon and our NSQIP champion. I like helping residents turn an M&M case into a QI project."),
    _mentor("Jonathan", "Reyes", "gs", "thoracic-surgery", None, PROF, 1, "en es tl", "in-person",
            ["Fellowship application", "Academic medicine", "Leadership"],
            ["Transplant", "Robotic surgery", "Surgical education"],
            "Cardiothoracic surgeon and former residency program director. I take one mentee a year who is serious "
            "about cardiothoracic surgery."),
]
# fmt: on


def _goals_text(rng: random.Random, program: str, goals, interests, subspecialties, windows, busy) -> str:
    subs = [SUBSPECIALTY_WORDS[program][s] for s in subspecialties]
    if subs:
        leaning = f"I'm leaning toward {subs[0]}" + (f" but {subs[1]} is still on the table" if len(subs) > 1 else "")
    elif goals[0] == "Fellowship application":
        leaning = "I want to do a fellowship but haven't picked one yet"
    else:
        leaning = "I haven't settled on a field yet"
    interest = _phrase(interests[0]) if interests else "my field"
    text = GOAL_TEXTS[goals[0]].format(leaning=leaning, interest=interest, field=subs[0] if subs else interest)

    if busy and busy[0][2] not in ("Vacation", "Away rotation"):
        text += f" With {_phrase(busy[0][2])} coming up, video may be easiest for a while."
    elif any(w[0] >= 5 for w in windows):
        text += " Weekends are easiest for me."
    elif any(w[1] < time(8) for w in windows):
        text += " Early mornings work best."
    elif windows:
        text += rng.choice([" Evenings after sign-out work best.", ""])
    return text


def _busy_blocks(rng: random.Random, labels, how_many: int):
    blocks, day = [], rng.choice([0, 7, 14])
    for label, days in rng.sample(labels, how_many):
        blocks.append((day, days, label))
        day += days + 7 * rng.randint(1, 4)
    return blocks


def _residents(rng: random.Random, taken_names: set[str]) -> list[Person]:
    pairs = zip(rng.sample(FIRST_NAMES, len(FIRST_NAMES)), rng.sample(LAST_NAMES, len(LAST_NAMES)), strict=False)
    names = [(first, last) for first, last in pairs if f"{first} {last}" not in taken_names]
    people = []
    for program, stage, count in RESIDENT_COHORTS:
        for _ in range(count):
            first, last = names.pop()
            windows = sorted(rng.sample(WINDOW_POOLS[(program, RESIDENT)], rng.randint(2, 4)))
            busy = _busy_blocks(rng, BUSY_LABELS[(program, RESIDENT)], rng.choice([0, 1, 1, 2]))
            goals = [rng.choice(STAGE_GOALS[stage])]
            goals += rng.sample([g for g in ALL_GOALS if g not in goals], rng.randint(1, 3))
            interests = rng.sample(INTEREST_POOLS[program], rng.randint(2, 4))
            n_subs = rng.choice([0, 1, 1, 2]) if stage != "PGY-1" else rng.choice([0, 0, 1, 2])
            subspecialties = rng.sample(sorted(SUBSPECIALTY_WORDS[program]), n_subs)
            languages = ["en", rng.choice(RESIDENT_LANGUAGES)] if rng.random() < 0.45 else ["en"]
            formats = rng.choice(
                [["video"], ["in-person", "video"], ["in-person"], ["video", "phone"], ["in-person", "video", "phone"]]
            )
            sparse = rng.random() < 0.08  # some residents never got past their PGY year
            people.append(
                Person(
                    email=_email(first, last),
                    first_name=first,
                    last_name=last,
                    time_zone=TIME_ZONES[program],
                    roles=[(program, RESIDENT)],
                    mentee=MenteeSpec(
                        stage=stage,
                        goals=goals[:1] if sparse else goals,
                        interests=[] if sparse else interests,
                        subspecialty_interests=[] if sparse else subspecialties,
                        languages=[] if sparse else languages,
                        formats=[] if sparse else formats,
                        goals_text=""
                        if sparse
                        else _goals_text(rng, program, goals, interests, subspecialties, windows, busy),
                    ),
                    windows=[] if sparse else windows,
                    busy=busy,
                    last_seen_hours_ago=None if sparse else rng.randint(1, 24 * 21),
                )
            )
    return people


def _named_people() -> list[Person]:
    """The demo logins other than the attending (who is in MENTORS), and the coordinators."""
    resident = Person(
        email=f"resident@{DEMO_DOMAIN}",
        first_name="Jordan",
        last_name="Rivera",
        time_zone=TIME_ZONES["im"],
        roles=[("im", RESIDENT)],
        mentee=MenteeSpec(
            stage="PGY-1",
            goals=["Fellowship application", "Research", "Career planning"],
            interests=["Cardiology", "Point-of-care ultrasound", "Health equity"],
            subspecialty_interests=[
                "internal-medicine-cardiovascular-disease",
                "internal-medicine-pulmonary-disease-and-critical-care-medicine",
            ],
            languages=["en", "es"],
            formats=[],  # left for the demo user to fill in: the profile is one step from complete
            goals_text=(
                "I'm leaning toward cardiology, but the MICU made me wonder about pulm/crit. I'd like help choosing, "
                "and a research project I can finish before fellowship applications. I grew up translating for my "
                "parents at their appointments, so health equity matters a lot to me."
            ),
            bio="Intern from El Paso; UT Southwestern for medical school. Runner, bad guitarist.",
        ),
        windows=[(1, _t("06:15"), _t("07:00")), (3, _t("18:30"), _t("20:00")), (5, _t("09:00"), _t("11:00"))],
        busy=[(14, 14, "Night float"), (49, 7, "Vacation")],
    )
    nearpeer = Person(
        email=f"nearpeer@{DEMO_DOMAIN}",
        first_name="Zoe",
        last_name="Adeyemi",
        time_zone=TIME_ZONES["gs"],
        roles=[("gs", RESIDENT), ("gs", FACULTY)],
        mentee=MenteeSpec(
            stage="PGY-4",
            goals=["Fellowship application", "Job search and contracts", "Leadership"],
            interests=["Oncology", "Surgical education", "Health equity"],
            subspecialty_interests=["general-surgery-complex-general-surgical-oncology"],
            languages=["en", "yo"],
            formats=["in-person", "video"],
            goals_text=(
                "I'm applying to surgical oncology fellowship next cycle and need honest feedback on where my "
                "application stands, and someone to practise interviews with."
            ),
        ),
        mentor=MentorSpec(
            specialty=GS,
            subspecialty=None,
            rank=None,
            stage="PGY-4",
            capacity=2,
            accepting=True,
            languages=["en", "yo"],
            formats=["in-person", "video", "phone"],
            expertise=["Clinical skills", WELLNESS, "Board preparation", "Teaching"],
            interests=["Surgical education", "Physician wellness", "Simulation"],
            bio=(
                "PGY-4 and near-peer mentor for interns. I remember exactly how intern year feels: I can help with "
                "pages at 3 a.m., the ABSITE, getting comfortable in the OR, and asking for help."
            ),
        ),
        windows=[(2, _t("12:00"), _t("13:00")), (3, _t("19:00"), _t("20:30")), (6, _t("09:00"), _t("11:00"))],
        busy=[(7, 28, "SICU month")],
    )
    coordinator = Person(
        email=f"coordinator@{DEMO_DOMAIN}",
        first_name="Dana",
        last_name="Whitfield",
        time_zone=TIME_ZONES["im"],
        roles=[("im", COORDINATOR), ("gs", COORDINATOR)],
    )
    im_coordinator = Person(
        email=_email("Latoya", "Simmons"),
        first_name="Latoya",
        last_name="Simmons",
        time_zone=TIME_ZONES["im"],
        roles=[("im", COORDINATOR)],
        last_seen_hours_ago=3,
    )
    gs_coordinator = Person(
        email=_email("Brian", "Kowalski"),
        first_name="Brian",
        last_name="Kowalski",
        time_zone=TIME_ZONES["gs"],
        roles=[("gs", COORDINATOR)],
        last_seen_hours_ago=27,
    )
    admin = Person(
        email=f"admin@{DEMO_DOMAIN}",
        first_name="Site",
        last_name="Administrator",
        time_zone=TIME_ZONES["im"],
        roles=[],
        is_superuser=True,
    )
    return [resident, nearpeer, coordinator, im_coordinator, gs_coordinator, admin]


def demo_cast() -> list[Person]:
    """Everyone in the demo, drawn from RANDOM_SEED: the same list on every call."""
    rng = random.Random(RANDOM_SEED)
    named = _named_people()
    mentors = []
    for spec in MENTORS:
        person = dataclasses.replace(spec)
        program = person.roles[0][0]
        person.windows = sorted(rng.sample(WINDOW_POOLS[(program, FACULTY)], rng.randint(2, 5)))
        person.busy = _busy_blocks(rng, BUSY_LABELS[(program, FACULTY)], rng.choice([0, 0, 1, 2]))
        if not person.email.startswith("attending@"):
            person.last_seen_hours_ago = rng.randint(1, 24 * 45)
        mentors.append(person)
    taken = {f"{p.first_name} {p.last_name}" for p in named + mentors}
    return named + mentors + _residents(rng, taken)


# --- Writing it.


class DemoDataError(Exception):
    pass


@dataclass
class SeedResult:
    created: Counter

    @property
    def changed(self) -> bool:
        return any(self.created.values())


class _Vocabularies:
    """Every vocabulary row by the key the cast uses; a handful of queries in all."""

    def __init__(self):
        self.tables = {
            "goal": {g.name: g for g in Goal.objects.all()},
            "interest": {i.name: i for i in Interest.objects.all()},
            "language": {lang.code: lang for lang in Language.objects.all()},
            "format": {m.slug: m for m in MeetingFormat.objects.all()},
            "stage": {c.code: c for c in CareerStage.objects.all()},
            "rank": {r.name: r for r in AcademicRank.objects.all()},
            "specialty": {s.slug: s for s in Specialty.objects.select_related("parent")},
        }

    def get(self, kind: str, key: str | None):
        if key is None:
            return None
        try:
            return self.tables[kind][key]
        except KeyError:
            raise DemoDataError(
                f"The {kind} {key!r} is missing from the vocabularies. Run `manage.py migrate` first."
            ) from None

    def many(self, kind: str, keys) -> list:
        return [self.get(kind, key) for key in keys]


def _add_m2m(model, field_name: str, rows):
    """Bulk-insert (profile, target) rows into the many-to-many table of ``model.field_name``."""
    m2m = model._meta.get_field(field_name)
    through = m2m.remote_field.through
    source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
    through.objects.bulk_create(through(**{source: profile, target: obj}) for profile, obj in rows)


@transaction.atomic
def seed_demo(*, today: date | None = None) -> SeedResult:
    """Create whatever part of the demo is missing; return how many rows of each kind were made.

    Profiles, windows and busy blocks are bulk-inserted rather than written through
    accounts.services: the services validate and save one profile at a time (a dozen
    queries each, ~100 people), while this is ~40 queries in all. The data is fixed and
    the model rules the services enforce are checked here with ``clean()``.
    """
    cast = demo_cast()
    vocab = _Vocabularies()
    created = Counter()
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    now = timezone.now()

    # The demo's institution asks no second factor of its coordinators, so the demo logins work
    # with e-mail and password alone (README: how to switch it on).
    institution, made = Institution.objects.get_or_create(
        name=INSTITUTION, defaults={"slug": "lakeside", "require_mfa_for_coordinators": False}
    )
    created["institutions"] += made
    programs = {}
    for spec in PROGRAMS:
        programs[spec.slug], made = Program.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "institution": institution,
                "time_zone": spec.time_zone,
                "specialty": vocab.get("specialty", spec.specialty),
            },
        )
        created["programs"] += made

    # People. One hash for everyone: hashing ~100 passwords would take most of the run.
    emails = [p.email for p in cast]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    password = make_password(DEMO_PASSWORD)
    new_users = [
        User(
            email=p.email,
            **User.identity_fields(p.email),
            first_name=p.first_name,
            last_name=p.last_name,
            time_zone=p.time_zone,
            password=password,
            is_staff=p.is_superuser,
            is_superuser=p.is_superuser,
            last_seen=now - timedelta(hours=p.last_seen_hours_ago) if p.last_seen_hours_ago else None,
        )
        for p in cast
        if p.email not in existing
    ]
    User.objects.bulk_create(new_users)
    created["users"] += len(new_users)
    users = {u.email: u for u in User.objects.filter(email__in=emails)}

    have = set(Membership.objects.filter(user__in=users.values()).values_list("user_id", "program_id", "role"))
    memberships = [
        Membership(user=users[p.email], program=programs[slug], role=role)
        for p in cast
        for slug, role in p.roles
        if (users[p.email].pk, programs[slug].pk, role) not in have
    ]
    Membership.objects.bulk_create(memberships)
    created["memberships"] += len(memberships)

    created["mentee profiles"] += _seed_mentee_profiles(cast, users, vocab)
    created["mentor profiles"] += _seed_mentor_profiles(cast, users, vocab)

    # Schedules: only for people who have none, so a re-run never duplicates a window.
    with_windows = set(AvailabilityWindow.objects.filter(user__in=users.values()).values_list("user_id", flat=True))
    windows = [
        AvailabilityWindow(user=users[p.email], weekday=weekday, start=start, end=end)
        for p in cast
        if users[p.email].pk not in with_windows
        for weekday, start, end in p.windows
    ]
    AvailabilityWindow.objects.bulk_create(windows)
    created["availability windows"] += len(windows)

    with_blocks = set(BusyBlock.objects.filter(user__in=users.values()).values_list("user_id", flat=True))
    blocks = [
        BusyBlock(
            user=users[p.email],
            label=label,
            start_date=monday + timedelta(days=offset),
            end_date=monday + timedelta(days=offset + days - 1),
        )
        for p in cast
        if users[p.email].pk not in with_blocks
        for offset, days, label in p.busy
    ]
    BusyBlock.objects.bulk_create(blocks)
    created["busy blocks"] += len(blocks)
    created["imported busy calendars"] += _seed_imported_calendars(users, monday)
    created["calendar feeds"] += _seed_calendar_feeds(users)
    return SeedResult(created=created)


# The residents' rotation schedules, as if uploaded from Amion/QGenda (.ics): each block has
# the UID it had in the file, so importing the real file later replaces them.
IMPORTED_CALENDARS = {
    f"resident@{DEMO_DOMAIN}": (
        "Amion: IM intern schedule",
        [(3, 1, "Call: wards (24 h)"), (10, 1, "Call: wards (24 h)"), (35, 5, "Clinic week")],
    ),
    f"nearpeer@{DEMO_DOMAIN}": ("QGenda: surgery call", [(2, 1, "Trauma call"), (5, 1, "Trauma call")]),
}


def _seed_imported_calendars(users, monday: date) -> int:
    made = 0
    for email, (name, events) in IMPORTED_CALENDARS.items():
        user = users.get(email)
        if user is None or BusyCalendar.objects.filter(user=user).exists():
            continue
        calendar = BusyCalendar.objects.create(user=user, name=name, last_synced_at=timezone.now())
        BusyBlock.objects.bulk_create(
            BusyBlock(
                user=user,
                calendar=calendar,
                external_uid=f"demo-{user.pk}-{offset}@{name.split(':')[0].lower()}",
                label=label,
                start_date=monday + timedelta(days=offset),
                end_date=monday + timedelta(days=offset + days - 1),
            )
            for offset, days, label in events
        )
        made += 1
    return made


def _seed_calendar_feeds(users) -> int:
    """A feed for the resident and attending logins, so their profile shows its address."""
    made = 0
    for email in (f"resident@{DEMO_DOMAIN}", f"attending@{DEMO_DOMAIN}"):
        user = users.get(email)
        if user is not None and not CalendarFeed.objects.filter(user=user).exists():
            CalendarFeed.objects.create(user=user, token=secrets.token_urlsafe(32))
            made += 1
    return made


def _seed_mentee_profiles(cast, users, vocab) -> int:
    people = [p for p in cast if p.mentee]
    have = set(MenteeProfile.objects.filter(user__in=users.values()).values_list("user_id", flat=True))
    todo = [p for p in people if users[p.email].pk not in have]
    MenteeProfile.objects.bulk_create(
        MenteeProfile(
            user=users[p.email],
            career_stage=vocab.get("stage", p.mentee.stage),
            goals_text=p.mentee.goals_text,
            bio=p.mentee.bio,
        )
        for p in todo
    )
    profiles = {m.user_id: m for m in MenteeProfile.objects.filter(user__in=[users[p.email] for p in todo])}
    for field_name, kind, attr in [
        ("goals", "goal", "goals"),
        ("interests", "interest", "interests"),
        ("subspecialty_interests", "specialty", "subspecialty_interests"),
        ("languages", "language", "languages"),
        ("meeting_formats", "format", "formats"),
    ]:
        _add_m2m(
            MenteeProfile,
            field_name,
            [(profiles[users[p.email].pk], obj) for p in todo for obj in vocab.many(kind, getattr(p.mentee, attr))],
        )
    return len(todo)


def _seed_mentor_profiles(cast, users, vocab) -> int:
    people = [p for p in cast if p.mentor]
    have = set(MentorProfile.objects.filter(user__in=users.values()).values_list("user_id", flat=True))
    todo = [p for p in people if users[p.email].pk not in have]
    new = []
    for p in todo:
        spec = p.mentor
        profile = MentorProfile(
            user=users[p.email],
            specialty=vocab.get("specialty", spec.specialty),
            subspecialty=vocab.get("specialty", spec.subspecialty),
            academic_rank=vocab.get("rank", spec.rank),
            career_stage=vocab.get("stage", spec.stage),
            capacity=spec.capacity,
            accepting_mentees=spec.accepting,
            bio=spec.bio,
        )
        profile.clean()  # the subspecialty must belong to the specialty
        new.append(profile)
    MentorProfile.objects.bulk_create(new)
    profiles = {m.user_id: m for m in MentorProfile.objects.filter(user__in=[users[p.email] for p in todo])}
    for field_name, kind, attr in [
        ("expertise", "goal", "expertise"),
        ("interests", "interest", "interests"),
        ("languages", "language", "languages"),
        ("meeting_formats", "format", "formats"),
    ]:
        _add_m2m(
            MentorProfile,
            field_name,
            [(profiles[users[p.email].pk], obj) for p in todo for obj in vocab.many(kind, getattr(p.mentor, attr))],
        )
    return len(todo)


def logins_table() -> str:
    """The demo logins as an aligned plain-text table."""
    rows = [("E-mail", "Role", "What to try")] + [(d.email, d.role, d.what_to_try) for d in DEMO_LOGINS]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
