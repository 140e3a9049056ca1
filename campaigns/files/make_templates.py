"""Generate the PDF templates the example campaigns offer for download.

Run once from the repository root (the PDFs are kept next to the campaigns):

    .venv/bin/python campaigns/files/make_templates.py
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

HERE = Path(__file__).resolve().parent

DOCUMENTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "reglement-interieur.pdf": (
        "Collège Jean Moulin - Règlement intérieur (extrait)",
        [
            ("Préambule", "Le règlement intérieur fixe les règles de vie de la communauté "
             "scolaire : droits et devoirs des élèves, organisation de la vie au collège, "
             "sanctions et punitions. Il s'applique à tous, dans l'établissement et pendant les "
             "sorties pédagogiques."),
            ("1. Horaires et ponctualité", "Le collège est ouvert de 7 h 45 à 17 h 30. Les "
             "élèves doivent être présents à l'heure en cours. Tout retard est noté et signalé "
             "à la famille par l'application de vie scolaire."),
            ("2. Absences", "Toute absence doit être justifiée par écrit par un responsable "
             "légal dans les 48 heures. Les absences répétées non justifiées sont signalées à la "
             "direction académique."),
            ("3. Régime de sortie", "Le régime de sortie choisi lors de la réinscription "
             "s'applique toute l'année. Il peut être modifié sur demande écrite adressée au "
             "conseiller principal d'éducation."),
            ("4. Respect et sécurité", "Le respect mutuel, la politesse et le refus de toute "
             "forme de violence ou de harcèlement sont exigés. Le téléphone portable est éteint "
             "et rangé dans l'enceinte du collège, sauf usage pédagogique encadré."),
            ("5. Demi-pension", "Les élèves demi-pensionnaires déjeunent au collège les jours "
             "prévus par leur forfait. Le tarif dépend du quotient familial de la famille."),
            ("Signatures", "Lu et approuvé, le ......................\n\n"
             "Signature de l'élève :                         Signature des responsables "
             "légaux :"),
        ],
    ),
    "fiche-infirmerie.pdf": (
        "Collège Jean Moulin - Fiche infirmerie (confidentielle)",
        [
            ("À remettre sous pli fermé", "Cette fiche est destinée à l'infirmière du collège "
             "uniquement. Remplissez-la, signez-la et rendez-la sous enveloppe fermée portant "
             "le nom et la classe de l'élève, ou déposez-la numérisée dans votre dossier."),
            ("Élève", "Nom : ..............................  Prénom : .........................."
             "\nDate de naissance : ....../....../..........  Classe : ........"),
            ("Vaccinations", "Date du dernier rappel diphtérie-tétanos-poliomyélite : "
             "....../....../.........."),
            ("Informations médicales utiles", "Allergies, traitement en cours, maladie "
             "chronique, PAI (projet d'accueil individualisé) : "
             "\n..................................................................."
             "\n..................................................................."),
            ("Médecin traitant", "Nom et téléphone : "
             "..........................................................."),
            ("Autorisation", "J'autorise le collège, en cas d'urgence, à faire appel aux "
             "services de secours (SAMU, pompiers) pour transporter mon enfant vers l'hôpital le "
             "plus adapté. Un élève mineur ne peut sortir de l'hôpital qu'accompagné d'un "
             "responsable légal."),
            ("Signature", "Date : ....../....../..........   Signature du responsable légal :"),
        ],
    ),
    "charte-numerique-tilleuls.pdf": (
        "Collège Les Tilleuls - Charte numérique / Digital charter",
        [
            ("Charte d'usage des tablettes", "Chaque élève reçoit une tablette prêtée par le "
             "département. Elle reste la propriété du collège ; l'élève en prend soin, la "
             "recharge chaque soir et ne l'utilise que pour le travail scolaire."),
            ("Tablet use charter", "Each pupil is lent a tablet by the département. It remains "
             "the property of the school; the pupil looks after it, charges it every evening "
             "and uses it for schoolwork only."),
            ("Engagement / Commitment", "Nous avons lu la charte et nous nous engageons à la "
             "respecter. We have read the charter and agree to follow it.\n\n"
             "Signature de l'élève / Pupil:              "
             "Signature du responsable / Parent or guardian:"),
        ],
    ),
}


def make(path: Path, title: str, sections: list[tuple[str, str]]) -> None:
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_author("DossierSCO - campagne d'exemple")
    pdf.set_creation_date(__import__("datetime").datetime(2027, 1, 1))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, text in sections:
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.output(str(path))


def main() -> None:
    for name, (title, sections) in DOCUMENTS.items():
        make(HERE / name, title, sections)
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
