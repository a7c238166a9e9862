"""The seed paper's 14 cardiac themes and the terms that point to each."""

from __future__ import annotations

import re

THEMES = (
    "cardiac medications",
    "cardiomyopathy",
    "cardiovascular disease",
    "cardiovascular risk factors",
    "chest pain",
    "congenital heart disease",
    "coronary artery disease",
    "ECG/EKG interpretation",
    "heart attack (MI)",
    "heart failure",
    "heart palpitations",
    "heart rhythm disorders (arrhythmia)",
    "heart valve problems",
    "high blood pressure (hypertension)",
)
GENERIC = "cardiovascular disease"

# (theme, pattern, weight). Weights < 1 are supporting evidence; where a term stands in the question
# (its stem, its ask, its options) decides how much it counts, see `_parts`.
TERMS: list[tuple[str, str, float]] = [
    ("heart attack (MI)", r"myocardial infarct\w*|heart attacks?|\bn?stemi\b|\bmi\b|transmural infarct\w*", 1.0),
    ("heart attack (MI)", r"troponins?|thromboly\w+|streptokinase|st[- ](?:segment )?elevations?", 0.5),
    (
        "coronary artery disease",
        r"coronary (?:artery|heart) disease|ischa?emic heart disease|angina|coronary (?:artery )?bypass"
        r"|coronary revasculari[sz]ation",
        1.0,
    ),
    ("coronary artery disease", r"\bcad\b", 0.5),  # also "computer-aided diagnosis"
    (
        "coronary artery disease",
        r"coronary arter\w*|\bcabg\b|\bpci\b|percutaneous coronary|coronary stent\w*|atherosclero\w*"
        r"|(?:left anterior descending|circumflex|right coronary) arter\w*",
        0.7,
    ),
    ("chest pain", r"chest (?:pain|tightness|pressure|discomfort)|retrosternal pain|substernal pain", 1.0),
    (
        "heart failure",
        r"heart failure|cardiac failure|\bchf\b|hfref|hfpef|ejection fraction|\bnyha\b|sacubitril"
        r"|pressure[- ]volume loop",
        1.0,
    ),
    (
        "heart failure",
        r"\bbnp\b|nt-probnp|pulmonary o?edema|jugular venous (?:distension|distention|pressure)"
        r"|jugular venous pulsation|\bjvp\b|\bjvd\b|\bs3\b|orthopn\w+|paroxysmal nocturnal dyspn\w+",
        0.5,
    ),
    ("cardiomyopathy", r"cardiomyopath\w*|septal hypertrophy|\bhocm\b|takotsubo|myocarditis", 1.0),
    (
        "heart rhythm disorders (arrhythmia)",
        r"arrhythmi\w*|atrial fibrillation|\bafib\b|\ba-?fib\b|atrial flutter|ventricular (?:tachycardia|fibrillation)"
        r"|bradycardi\w*|heart block|av block|long qt|qt prolongation|torsades|wolff-parkinson|\bwpw\b|\bsvt\b"
        r"|supraventricular|sick sinus|left atrial appendage|antiarrhythmic\w*|maze (?:iv )?procedure"
        r"|(?:catheter|ganglionated plexi) ablation|cardioversion",
        1.0,
    ),
    (
        "heart rhythm disorders (arrhythmia)",
        r"irregularly irregular|pacemaker cells?|sinoatrial|atrioventricular node|sinus rhythm",
        0.7,
    ),
    (
        "heart palpitations",
        r"palpitations?|heart (?:is )?(?:racing|pounding)|(?:racing|pounding) heart"
        r"|heart ?beat (?:is )?(?:fast|irregular)|(?:high|fast|rapid) heart rate"
        r"|heart rate (?:is |be )?(?:so )?(?:high|fast)",
        1.0,
    ),
    ("heart palpitations", r"tachycardi\w*", 0.5),
    (
        "heart valve problems",
        r"(?:mitral|aortic|tricuspid|pulmonic|pulmonary) (?:valve|stenosis|regurgitation|insufficiency|prolapse)"
        r"|heart valves?|valvular heart|prosthetic (?:heart )?valve|endocarditis|valve replacement",
        1.0,
    ),
    ("heart valve problems", r"murmurs?|rheumatic (?:fever|heart|carditis)|vegetations?", 0.7),
    (
        "congenital heart disease",
        r"congenital heart|patent ductus arteriosus|\bpda\b|ventricular septal defect|\bvsd\b|atrial septal defect"
        r"|\basd\b|tetralogy of fallot|coarctation|transposition of the great|eisenmenger"
        r"|continuous (?:machine(?:ry|-like) )?murmur|patent foramen ovale|endocardial cushion|septal defect"
        r"|truncus arteriosus|overriding (?:aorta|great (?:vessel|artery))"
        r"|(?:brachial|radio)[- ]femoral delay",
        1.0,
    ),
    (
        "ECG/EKG interpretation",
        r"\becg\b|\bekg\b|electrocardiogra\w*|qrs|pr interval|qt interval|t[- ]waves?|p[- ]waves?",
        1.0,
    ),
    (
        "high blood pressure (hypertension)",
        r"(?<!portal )(?<!intracranial )(?<!ocular )(?<!pulmonary )hypertension|high blood pressure"
        r"|(?:elevated|raised) blood pressure|antihypertensive\w*|hypertensive (?:crisis|emergency|urgency)"
        r"|blood pressure[^.?!]{0,40}?\b(?:1[4-9]\d|2\d\d)\s*/\s*\d{2,3}|renal artery stenosis|renovascular",
        1.0,
    ),
    # drug classes name a topic; single drug names mostly stand in medication lists and option lists
    (
        "cardiac medications",
        r"beta[- ]?blockers?|ace inhibitors?|angiotensin[- ]converting[- ]enzyme inhibitors?"
        r"|angiotensin receptor blockers?|antiarrhythmics?|anticoagulants?|antiplatelets?|calcium[- ]channel blockers?"
        r"|cardiac glycosides?|inotropes?|vasodilators?",
        1.0,
    ),
    (
        "cardiac medications",
        r"digoxin|amiodarone|nitroglycerin|nitrates?|warfarin|anticoagulation|clopidogrel|metoprolol|labetalol"
        r"|amlodipine|nifedipine|verapamil|diltiazem|lisinopril|enalapril|ramipril|losartan|valsartan|furosemide"
        r"|spironolactone|hydrochlorothiazide|thiazides?|apixaban|rivaroxaban|dobutamine|adenosine|procainamide"
        r"|propranolol|atenolol|carvedilol|cilostazol|inotropic",
        0.5,
    ),
    (
        "cardiovascular risk factors",
        r"cardiovascular risk|hyperlipid\w*|dyslipid\w*|hypercholesterol\w*|hypertriglycerid\w*|\bldl\b"
        r"|low[- ]density lipoprotein|\bstatins?\b|bile acid sequestrants?|cholesterol (?:screening|levels?|lowering)",
        1.0,
    ),
    (
        "cardiovascular risk factors",
        r"rosuvastatin|atorvastatin|simvastatin|niacin|fibrates?|ezetimibe|colesevelam",
        0.5,
    ),
    ("cardiovascular risk factors", r"lipid (?:levels?|profile)|lipid-lowering|lipoprotein\(a\)", 1.0),
    ("cardiovascular risk factors", r"cholesterol|mevalonate|hmg-coa", 0.5),
    (
        GENERIC,
        r"cardiovascular (?:disease|events?|outcomes?|mortality)|heart disease|cardiac arrest|pericardi\w+"
        r"|aortic (?:dissection|aneurysm|rupture|transection|injury)|aneurysm of the aorta"
        r"|(?:abdominal|thoracic) aort\w+|(?:dissection|rupture) of the aorta"
        r"|peripheral arter(?:y|ial) disease|claudication|aortoiliac|coronary sinus|myxoma|tamponade"
        r"|pulsus paradoxus|cardiogenic shock|arterial (?:emboli|embolism|embolus|occlusion)|limb isch(?:a)?emia"
        r"|cardiac (?:contusion|output|tumou?r|catheteri[sz]ation|surgery|reoperations?)|heart surgery"
        r"|heart problems?|cardiologist|cardiopulmonary bypass"
        r"|pulse pressure|stroke volume|cardiac cycle|type a dissection|aortic (?:replacement|root)|epicardial"
        r"|myocardi(?:um|al)(?! infarct)|endocardi(?:um|al)|cardiac myocytes?|cardiomyocytes?",
        1.0,
    ),
    (
        GENERIC,
        r"echocardiogra\w*|\bcardiac\b|(?<!fetal )\bheart\b(?! rate| ?burn| sounds? (?:are|were) normal| and lung)"
        r"|femoropopliteal|femoral[- ]to[- ]popliteal|popliteal artery|iliac artery|ankle[- ]brachial|endovascular"
        r"|left (?:atri|ventric)\w+"
        r"|right (?:atri|ventric)\w+|\bventricular\b(?! shunt| drain)|\batrial\b",
        0.5,
    ),
]
COMPILED = [(theme, re.compile(p, re.I), w) for theme, p, w in TERMS]
