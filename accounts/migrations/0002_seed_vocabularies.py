"""Seed the vocabularies: ACGME specialties, goals, interests, stages, ranks, languages, formats.

The data lives here, frozen with the migration; later changes get a migration of their own.
"""

from django.db import migrations
from django.utils.text import slugify

# ACGME-accredited specialties, with a selection of their subspecialties.
SPECIALTIES = {
    "Allergy and Immunology": [],
    "Anesthesiology": [
        "Adult Cardiac Anesthesiology", "Critical Care Medicine", "Obstetric Anesthesiology",
        "Pain Medicine", "Pediatric Anesthesiology", "Regional Anesthesiology and Acute Pain Medicine",
    ],
    "Child Neurology": [],
    "Colon and Rectal Surgery": [],
    "Dermatology": ["Dermatopathology", "Micrographic Surgery and Dermatologic Oncology"],
    "Emergency Medicine": [
        "Emergency Medical Services", "Medical Toxicology", "Pediatric Emergency Medicine",
        "Sports Medicine", "Undersea and Hyperbaric Medicine",
    ],
    "Family Medicine": ["Geriatric Medicine", "Hospice and Palliative Medicine", "Sports Medicine", "Addiction Medicine"],
    "Internal Medicine": [
        "Addiction Medicine", "Advanced Heart Failure and Transplant Cardiology", "Cardiovascular Disease",
        "Clinical Cardiac Electrophysiology", "Critical Care Medicine",
        "Endocrinology, Diabetes, and Metabolism", "Gastroenterology", "Geriatric Medicine",
        "Hematology and Medical Oncology", "Hospice and Palliative Medicine", "Infectious Disease",
        "Interventional Cardiology", "Nephrology", "Pulmonary Disease and Critical Care Medicine",
        "Rheumatology", "Sleep Medicine", "Transplant Hepatology",
    ],
    "Internal Medicine-Pediatrics": [],
    "Interventional Radiology": [],
    "Medical Genetics and Genomics": [],
    "Neurological Surgery": [],
    "Neurology": ["Clinical Neurophysiology", "Epilepsy", "Neuromuscular Medicine", "Vascular Neurology"],
    "Nuclear Medicine": [],
    "Obstetrics and Gynecology": [
        "Gynecologic Oncology", "Maternal-Fetal Medicine", "Reproductive Endocrinology and Infertility",
        "Urogynecology and Reconstructive Pelvic Surgery",
    ],
    "Ophthalmology": [],
    "Orthopaedic Surgery": ["Hand Surgery", "Orthopaedic Sports Medicine", "Orthopaedic Trauma", "Pediatric Orthopaedics"],
    "Osteopathic Neuromusculoskeletal Medicine": [],
    "Otolaryngology – Head and Neck Surgery": [],
    "Pathology": ["Cytopathology", "Forensic Pathology", "Hematopathology", "Neuropathology"],
    "Pediatrics": [
        "Neonatal-Perinatal Medicine", "Pediatric Cardiology", "Pediatric Critical Care Medicine",
        "Pediatric Emergency Medicine", "Pediatric Endocrinology", "Pediatric Gastroenterology",
        "Pediatric Hematology-Oncology", "Pediatric Hospital Medicine", "Pediatric Infectious Diseases",
    ],
    "Physical Medicine and Rehabilitation": ["Brain Injury Medicine", "Spinal Cord Injury Medicine", "Sports Medicine"],
    "Plastic Surgery": [],
    "Preventive Medicine": [],
    "Psychiatry": [
        "Addiction Psychiatry", "Child and Adolescent Psychiatry", "Consultation-Liaison Psychiatry",
        "Forensic Psychiatry", "Geriatric Psychiatry",
    ],
    "Radiation Oncology": [],
    "Diagnostic Radiology": ["Abdominal Radiology", "Musculoskeletal Radiology", "Neuroradiology", "Pediatric Radiology"],
    "General Surgery": [
        "Complex General Surgical Oncology", "Hand Surgery", "Pediatric Surgery", "Surgical Critical Care",
        "Vascular Surgery",
    ],
    "Thoracic Surgery": ["Congenital Cardiac Surgery"],
    "Urology": ["Pediatric Urology"],
    "Vascular Surgery": [],
}

GOALS = [
    ("Career planning", "Choosing a path: specialty, fellowship, practice setting."),
    ("Fellowship application", "Deciding on, preparing and applying for fellowship."),
    ("Research", "Finding projects, methods, writing and publishing."),
    ("Clinical skills", "Judgment, procedures and clinical reasoning."),
    ("Leadership", "Chief year, committees, leading teams."),
    ("Teaching", "Teaching students and juniors; medical education."),
    ("Wellness and work–life balance", "Burnout, resilience, family, life outside medicine."),
    ("Quality improvement and patient safety", "QI projects and safety work."),
    ("Academic medicine", "A faculty career: promotion, scholarship, niche."),
    ("Private practice", "Community and private practice careers."),
    ("Global health", "Work abroad and in resource-limited settings."),
    ("Board preparation", "In-training exams and boards."),
    ("Networking", "Meeting people in the field; conferences; introductions."),
    ("Diversity, equity and inclusion", "Belonging, advocacy, support for under-represented physicians."),
    ("Advocacy and health policy", "Policy work and advocacy."),
    ("Job search and contracts", "Finding a first attending job; negotiating."),
]

INTERESTS = [
    "Addiction", "Artificial intelligence", "Bedside ultrasound", "Cardiology", "Clinical trials",
    "Critical care", "Digital health", "Disaster medicine", "Endoscopy", "Ethics", "Geriatrics",
    "Health equity", "Health services research", "Hospital medicine", "Immigrant health",
    "Infectious disease", "LGBTQ+ health", "Medical education", "Minimally invasive surgery",
    "Nephrology", "Nutrition", "Oncology", "Palliative care", "Patient safety", "Pediatrics",
    "Physician wellness", "Point-of-care ultrasound", "Procedures", "Public health", "Pulmonology",
    "Quality improvement", "Robotic surgery", "Rural health", "Simulation", "Sports medicine",
    "Surgical education", "Telemedicine", "Transplant", "Trauma", "Women's health",
]

CAREER_STAGES = [
    ("MS4", "Medical student (MS4)"),
    ("PGY-1", "PGY-1 (intern)"), ("PGY-2", "PGY-2"), ("PGY-3", "PGY-3"), ("PGY-4", "PGY-4"),
    ("PGY-5", "PGY-5"), ("PGY-6", "PGY-6"), ("PGY-7", "PGY-7"),
    ("FELLOW", "Fellow"),
    ("JUNIOR-FACULTY", "Junior faculty"),
]

ACADEMIC_RANKS = ["Instructor", "Assistant Professor", "Associate Professor", "Professor"]

LANGUAGES = [
    ("en", "English"), ("es", "Spanish"), ("zh", "Mandarin Chinese"), ("yue", "Cantonese"),
    ("hi", "Hindi"), ("ur", "Urdu"), ("ar", "Arabic"), ("fr", "French"), ("ht", "Haitian Creole"),
    ("vi", "Vietnamese"), ("tl", "Tagalog"), ("ko", "Korean"), ("ru", "Russian"), ("pt", "Portuguese"),
    ("bn", "Bengali"), ("pa", "Punjabi"), ("gu", "Gujarati"), ("ta", "Tamil"), ("te", "Telugu"),
    ("de", "German"), ("it", "Italian"), ("pl", "Polish"), ("fa", "Persian (Farsi)"), ("yo", "Yoruba"),
    ("ig", "Igbo"), ("am", "Amharic"), ("he", "Hebrew"), ("ja", "Japanese"), ("el", "Greek"),
    ("tr", "Turkish"), ("ase", "American Sign Language"),
]

MEETING_FORMATS = [("in-person", "In person"), ("video", "Video"), ("phone", "Phone")]


def seed(apps, schema_editor):
    Specialty = apps.get_model("accounts", "Specialty")
    for name, children in SPECIALTIES.items():
        parent, _ = Specialty.objects.get_or_create(parent=None, name=name, defaults={"slug": slugify(name)})
        for child in children:
            Specialty.objects.get_or_create(
                parent=parent, name=child, defaults={"slug": slugify(f"{name} {child}")}
            )

    Goal = apps.get_model("accounts", "Goal")
    for order, (name, description) in enumerate(GOALS):
        Goal.objects.get_or_create(slug=slugify(name), defaults={"name": name, "description": description, "order": order})

    Interest = apps.get_model("accounts", "Interest")
    for name in INTERESTS:
        Interest.objects.get_or_create(slug=slugify(name), defaults={"name": name})

    CareerStage = apps.get_model("accounts", "CareerStage")
    for order, (code, name) in enumerate(CAREER_STAGES):
        CareerStage.objects.get_or_create(code=code, defaults={"name": name, "slug": slugify(code), "order": order})

    AcademicRank = apps.get_model("accounts", "AcademicRank")
    for order, name in enumerate(ACADEMIC_RANKS, start=1):
        AcademicRank.objects.get_or_create(slug=slugify(name), defaults={"name": name, "order": order})

    Language = apps.get_model("accounts", "Language")
    for code, name in LANGUAGES:
        Language.objects.get_or_create(code=code, defaults={"name": name, "slug": slugify(name)})

    MeetingFormat = apps.get_model("accounts", "MeetingFormat")
    for order, (slug, name) in enumerate(MEETING_FORMATS):
        MeetingFormat.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
