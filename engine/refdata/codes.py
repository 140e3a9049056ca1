"""Small SIECLE code tables: parenté, professions (PCS) and régimes."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: CODE_PARENTE (always two characters: SIECLE refuses "1" for "10")
PARENTE_CODES: Mapping[str, str] = MappingProxyType({
    "10": "MERE", "20": "PERE", "37": "FRATRIE", "38": "ASCENDANT",
    "39": "AUTRE MEMBRE DE LA FAMILLE", "41": "EDUCATEUR", "42": "ASS. FAMIL",
    "50": "TUTEUR", "51": "AIDE SOCIALE A L'ENFANCE", "70": "ELEVE", "90": "AUTRE LIEN",
})

#: CODE_PROFESSION: INSEE PCS 2003 at the level SIECLE uses (2 digits)
PROFESSION_CODES: Mapping[str, str] = MappingProxyType({
    "10": "Agriculteur exploitant",
    "21": "Artisan",
    "22": "Commerçant et assimilé",
    "23": "Chef d'entreprise de 10 salariés ou plus",
    "31": "Profession libérale",
    "33": "Cadre de la fonction publique",
    "34": "Professeur, profession scientifique",
    "35": "Profession de l'information, des arts et des spectacles",
    "37": "Cadre administratif et commercial d'entreprise",
    "38": "Ingénieur, cadre technique d'entreprise",
    "42": "Professeur des écoles, instituteur et assimilé",
    "43": "Profession intermédiaire de la santé et du travail social",
    "44": "Clergé, religieux",
    "45": "Profession intermédiaire administrative de la fonction publique",
    "46": "Profession intermédiaire administrative et commerciale des entreprises",
    "47": "Technicien",
    "48": "Contremaître, agent de maîtrise",
    "52": "Employé civil et agent de service de la fonction publique",
    "53": "Policier et militaire",
    "54": "Employé administratif d'entreprise",
    "55": "Employé de commerce",
    "56": "Personnel des services directs aux particuliers",
    "61": "Ouvrier qualifié",
    "66": "Ouvrier non qualifié",
    "69": "Ouvrier agricole",
    "71": "Retraité agriculteur exploitant",
    "72": "Retraité artisan, commerçant, chef d'entreprise",
    "74": "Retraité cadre",
    "75": "Retraité profession intermédiaire",
    "77": "Retraité employé",
    "78": "Retraité ouvrier",
    "81": "Chômeur n'ayant jamais travaillé",
    "83": "Militaire du contingent",
    "84": "Elève, étudiant",
    "85": "Personne sans activité professionnelle de moins de 60 ans (sauf retraité)",
    "86": "Personne sans activité professionnelle de 60 ans et plus (sauf retraité)",
    "99": "Non renseignée",
})

#: codes SIECLE retired (split into 74/75 and 77/78); an import keeps them but warns
OBSOLETE_PROFESSION_CODES: Mapping[str, str] = MappingProxyType({
    "73": "Retraité cadre et profession intermédiaire (remplacé par 74 ou 75)",
    "76": "Retraité employé et ouvrier (remplacé par 77 ou 78)",
})

#: CODE_REGIME values seen in SIECLE exports (the full list is per school in SIECLE)
REGIME_CODES: Mapping[str, str] = MappingProxyType({
    "0": "Externe libre",
    "2": "Demi-pensionnaire dans l'établissement",
    "24": "Demi-pensionnaire dans l'établissement 4 jours",
})
