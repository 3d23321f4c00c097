"""Builds evals/data/support_pairs.jsonl: run it from the project root to regenerate the file.

Passages are cut verbatim from the seed files by (file, start phrase, end
phrase); every pair below was written and labelled by hand.
"""
import json
import random
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
FILES = {p.name[:3]: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}


def span(f, start, end):
    text = FILES[f]
    i = text.index(start)
    assert text.count(start) == 1 or f == "004", (f, start)
    j = text.index(end, i) + len(end)
    return text[i:j]


P = {
    # ---- 000: "Difficult" talks end without breakthrough (Saad)
    "A1": span("000", "The latest round of peace talks", "political alignment remain unresolved."),
    "A2": span("000", "One of the main sticking points", "Russian control over its territory."),
    "A3": span("000", "Ukrainian President Volodymyr Zelenskyy has", "must be taken into account."),
    "A4": span("000", "Another central issue is", "describing it as a security threat."),
    "A5": span("000", "During the recent talks,", "no detailed framework was announced."),
    "A6": span("000", "Previous negotiations had resulted", "confirmed following the latest meeting."),
    "A7": span("000", "The European Union has maintained", "long-term resolution strategy."),
    "A8": span("000", "Developments on the battlefield", "without clear concessions."),
    "A9": span("000", "Statements from both capitals", "acknowledged ongoing differences."),
    "A10": span("000", "The conflict has had effects", "a major agricultural producer."),
    "A11": span("000", "Peace negotiations require a minimum", "accusations from both sides."),
    "A12": span("000", "Although the latest round ended", "may offer a practical starting point."),
    "A13": span("000", "At this stage, no timetable", "rapid progress are limited."),
    "A14": span("000", "Ukraine continues to receive military", "backing to sustain operations."),
    # ---- 001: Geneva talks
    "B1": span("001", "Russia Ukraine peace talks concluded in Geneva", "central obstacle to any ceasefire framework."),
    "B2": span("001", "The trilateral discussions involved", "complexity of the diplomatic effort."),
    "B3": span("001", "According to Ukrainian diplomatic sources", "foundational for any sustainable truce."),
    "B4": span("001", "Russian negotiator Vladimir Medinsky", "stark differences in strategic objectives."),
    "B5": span("001", "At the heart of the impasse", "a condition Kyiv firmly rejects."),
    "B6": span("001", "Zelensky has repeatedly stated", "embolden further expansionist moves."),
    "B7": span("001", "European powers — including Britain", "indispensable for a lasting settlement."),
    "B8": span("001", "Another significant obstacle is the status", "unlikely to gain acceptance from Moscow."),
    "B9": span("001", "US President Donald Trump", "shoulder disproportionate compromise."),
    "B10": span("001", "Next week marks four years", "displaced millions across the country."),
    "B11": span("001", "While no major agreement emerged", "closing the door on diplomacy entirely."),
    "B12": span("001", "For Ukraine, conceding Donbas", "exposed to future aggression."),
    # ---- 002: why talks are failing (June 2025)
    "C1": span("002", "Negotiations between Ukraine and Russia have occurred", "doubling down on military objectives."),
    "C2": span("002", "Recent reporting from Reuters", "shared starting point for negotiations."),
    "C3": span("002", "As Foreign Affairs notes", "seen as a strategic retreat."),
    "C4": span("002", "Despite public calls for dialogue", "enforce terms acceptable to both sides."),
    "C5": span("002", "Western powers, particularly the United States", "than a meaningful process."),
    "C6": span("002", "In Ukraine, President Zelenskyy may face", "controls most dissent tightly."),
    "C7": span("002", "If neither side achieves decisive", "uncertainty for years to come."),
    "C8": span("002", "As the war in Ukraine drags into its third year", "and the absence of trust."),
    "C9": span("002", "Ongoing war efforts and reconstruction", "don’t see progress toward peace."),
    "C10": span("002", "Furthermore, the idea of neutrality", "hardened national resolve."),
    # ---- 003: Geneva, long sentences
    "D1": span("003", "Peace talks aimed at ending Europe", "the European Union and the United Nations."),
    "D2": span("003", "Ukrainian negotiators insisted that", "they contend must be recalibrated."),
    "D3": span("003", "Diplomatic sources familiar with the discussions", "remains substantial and deeply entrenched."),
    "D4": span("003", "Swiss officials hosting the negotiations", "expectations for a rapid breakthrough remain tempered."),
    "D5": span("003", "Political pressures in both capitals", "reinforce its bargaining position."),
    # ---- 004: roadblocks, Istanbul exchange
    "E1": span("004", "A significant breakthrough came in May 2025", "broader political solutions remain out of reach."),
    "E2": span("004", "Switzerland’s June 2024 summit aimed", "include ceasefire terms and monitoring."),
    "E3": span("004", "In May 2025, Russia and Ukraine held direct talks", "offering a model for future agreements."),
    "E4": span("004", "The Russia-Ukraine war continues to defy", "block a comprehensive peace deal."),
    "E5": span("004", "Sanctions and reparations remain sticking points.", "move beyond incremental gains."),
    "E6": span("004", "Have there been any concrete outcomes", "the largest of the conflict."),
    "E7": span("004", "Why does Russia’s participation matter?", "lack political traction."),
}

T, F = True, False
# (passage, kind, supported, sentence)
PAIRS = [
    # A1
    ("A1", "verbatim", T, "The latest round of peace talks between Russia and Ukraine has ended without a breakthrough, with negotiators describing discussions as “difficult” and progress as limited."),
    ("A1", "paraphrase", T, "Negotiators called the latest Russia-Ukraine talks “difficult,” and the round ended without a breakthrough."),
    ("A1", "summary", T, "The talks ended without a breakthrough, and disagreements over territory and security guarantees remain unresolved."),
    ("A1", "added_negation", F, "Officials from both sides did not meet to explore the possibility of a ceasefire."),
    ("A1", "extra_claim", F, "The latest round of talks between Russia and Ukraine ended without a breakthrough, and both delegations walked out before the final session."),
    # A2
    ("A2", "verbatim", T, "Ukraine has repeatedly stated that it will not formally recognize Russian control over its territory."),
    ("A2", "paraphrase", T, "Territorial control remains one of the main sticking points, with Russia holding parts of eastern and southern Ukraine."),
    ("A2", "added_negation", F, "Russia does not currently hold parts of eastern and southern Ukraine."),
    ("A2", "swapped_name", F, "Ukraine has repeatedly stated that it will not formally recognize Belarusian control over its territory."),
    # A3
    ("A3", "verbatim", T, "Meanwhile, Russian President Vladimir Putin has signaled that security concerns and territorial realities must be taken into account."),
    ("A3", "paraphrase", T, "Zelensky has maintained that any agreement must respect Ukraine's sovereignty and its internationally recognized borders."),
    ("A3", "swapped_name", F, "Russian Foreign Minister Sergei Lavrov has signaled that security concerns and territorial realities must be taken into account."),
    ("A3", "extra_claim", F, "Zelenskyy has maintained that any agreement must respect Ukraine's internationally recognized borders, including Crimea."),
    # A4
    ("A4", "verbatim", T, "Russia has long opposed NATO expansion toward its borders, describing it as a security threat."),
    ("A4", "paraphrase", T, "Kyiv has shown interest in deeper cooperation with Western institutions such as NATO."),
    ("A4", "swapped_name", F, "Kyiv has expressed interest in deeper cooperation with Western institutions, including the OSCE."),
    ("A4", "added_negation", F, "Kyiv has expressed no interest in deeper cooperation with Western institutions, including NATO."),
    # A5
    ("A5", "verbatim", T, "However, no detailed framework was announced."),
    ("A5", "summary", T, "Negotiators reportedly revisited proposals for security guarantees for Ukraine that fall short of full NATO membership, but no detailed framework was announced."),
    ("A5", "extra_claim", F, "Negotiators reportedly revisited proposals for security guarantees for Ukraine, with the United States offering to act as guarantor."),
    ("A5", "added_negation", F, "During the recent talks, negotiators did not revisit proposals involving security guarantees for Ukraine."),
    # A6
    ("A6", "verbatim", T, "So far, no new humanitarian arrangements have been confirmed following the latest meeting."),
    ("A6", "paraphrase", T, "Earlier negotiations had produced limited agreements on prisoner exchanges and on grain exports through the Black Sea."),
    ("A6", "swapped_name", F, "Previous negotiations had resulted in limited agreements on prisoner exchanges and grain exports through the Baltic Sea."),
    ("A6", "extra_claim", F, "Previous negotiations had resulted in limited agreements on prisoner exchanges and grain exports, which were later suspended by Russia."),
    # A7
    ("A7", "verbatim", T, "The European Union has maintained sanctions on Russia while providing financial and military assistance to Ukraine."),
    ("A7", "paraphrase", T, "EU officials continue to encourage negotiations as part of a long-term strategy for resolving the conflict."),
    ("A7", "swapped_name", F, "The European Union has maintained sanctions on Belarus while providing financial and military assistance to Ukraine."),
    ("A7", "partial", F, "The European Union has maintained sanctions on Russia, while the United States has taken a leading role in brokering talks."),
    # A8
    ("A8", "verbatim", T, "Both Russia and Ukraine continue to conduct military operations, and neither side has indicated readiness to halt activity without clear concessions."),
    ("A8", "paraphrase", T, "Battlefield developments shape the tone and expectations of the peace talks."),
    ("A8", "extra_claim", F, "Both Russia and Ukraine continue to conduct military operations, and Russia has launched a new offensive in the Kharkiv region."),
    # A9
    ("A9", "verbatim", T, "Russian representatives described discussions as constructive but acknowledged ongoing differences."),
    ("A9", "paraphrase", T, "Ukrainian officials stressed that dialogue is necessary but must align with national interests."),
    ("A9", "swapped_name", F, "Ukrainian representatives described discussions as constructive but acknowledged ongoing differences."),
    ("A9", "added_negation", F, "Statements from both capitals following the talks did not reflect caution."),
    # A10
    ("A10", "verbatim", T, "The conflict has had effects beyond the immediate region."),
    ("A10", "paraphrase", T, "Global grain markets were disrupted because Ukraine, a major agricultural producer, exported less."),
    ("A10", "swapped_name", F, "Energy prices in Asia rose sharply in earlier stages of the war."),
    ("A10", "extra_claim", F, "Energy prices in Europe rose sharply in earlier stages of the war, forcing several governments to introduce price caps."),
    # A11
    ("A11", "verbatim", T, "Peace negotiations require a minimum level of trust between parties."),
    ("A11", "paraphrase", T, "After years of fighting and mutual accusations, trust between Russia and Ukraine remains low."),
    ("A11", "added_negation", F, "Peace negotiations do not require a minimum level of trust between parties."),
    # A12
    ("A12", "verbatim", T, "Although the latest round ended without major progress, diplomatic channels remain open."),
    ("A12", "summary", T, "Experts see incremental steps such as localized ceasefires or expanded humanitarian corridors as a practical starting point."),
    ("A12", "added_negation", F, "Although the latest round ended without major progress, diplomatic channels do not remain open."),
    ("A12", "extra_claim", F, "Negotiations in prolonged conflicts often involve multiple rounds, and a new round is scheduled for next month."),
    # A13
    ("A13", "verbatim", T, "At this stage, no timetable has been announced for the next round of talks."),
    ("A13", "summary", T, "No timetable for the next round of talks has been announced, and expectations for rapid progress are limited."),
    ("A13", "extra_claim", F, "Officials have indicated that communication channels remain active, and the next round will take place in Geneva."),
    # A14
    ("A14", "verbatim", T, "External support influences both sides’ calculations."),
    ("A14", "paraphrase", T, "Western partners continue to give Ukraine military and financial support, while Russia keeps alliances and economic ties with various countries."),
    ("A14", "swapped_name", F, "Ukraine continues to receive military and financial support from Western partners, while Russia maintains alliances and economic ties with Iran."),
    ("A14", "added_negation", F, "Ukraine no longer receives military and financial support from Western partners."),
    # B1
    ("B1", "verbatim", T, "Despite cautious optimism from American mediators, negotiations ended with no agreement on the core issue of territory — the central obstacle to any ceasefire framework."),
    ("B1", "paraphrase", T, "The Geneva talks between Russia and Ukraine ended without a major breakthrough, nearly four years after the full-scale invasion began."),
    ("B1", "swapped_number", F, "Russia Ukraine peace talks concluded in Geneva without a major breakthrough, nearly three years after the full-scale invasion began."),
    ("B1", "swapped_name", F, "Russia Ukraine peace talks concluded in Vienna without a major breakthrough."),
    # B2
    ("B2", "verbatim", T, "The trilateral discussions involved representatives from Russia, Ukraine, and the United States, with European officials observing on the sidelines."),
    ("B2", "paraphrase", T, "Representatives of Russia, Ukraine and the U.S. took part in the trilateral discussions, while European officials observed from the sidelines."),
    ("B2", "shifted_date", F, "Talks stretched late into Monday before concluding after a shorter session on Tuesday."),
    ("B2", "shifted_date", F, "Talks stretched late into Tuesday before concluding after a shorter session on Thursday."),
    ("B2", "extra_claim", F, "The trilateral discussions involved representatives from Russia, Ukraine, and the United States, and were hosted at the United Nations offices."),
    # B3
    ("B3", "verbatim", T, "Discussions reportedly addressed front-line positioning and mechanisms for monitoring a potential ceasefire."),
    ("B3", "paraphrase", T, "Ukrainian diplomatic sources said there was some movement on military-related matters."),
    ("B3", "added_negation", F, "According to Ukrainian diplomatic sources, no movement occurred regarding military-related matters."),
    ("B3", "extra_claim", F, "Discussions reportedly addressed front-line positioning and mechanisms for monitoring a potential ceasefire, including the use of drones and satellites."),
    # B4
    ("B4", "verbatim", T, "Russian negotiator Vladimir Medinsky characterized the discussions as “businesslike,” suggesting that further meetings are expected soon."),
    ("B4", "paraphrase", T, "Zelenskyy described the negotiations as \"not easy.\""),
    ("B4", "swapped_name", F, "Russian negotiator Sergei Lavrov characterized the discussions as “businesslike.”"),
    ("B4", "swapped_name", F, "Ukrainian President Volodymyr Zelensky characterized the discussions as “businesslike,” suggesting that further meetings are expected soon."),
    ("B4", "added_negation", F, "Medinsky suggested that no further meetings are expected soon."),
    ("B4", "partial", F, "Medinsky characterized the discussions as businesslike, and the talks ended with no agreement on territory."),
    # B5
    ("B5", "verbatim", T, "Moscow continues to demand full control over the region — a condition Kyiv firmly rejects."),
    ("B5", "paraphrase", T, "The Donbas region in eastern Ukraine, made up of Donetsk and Luhansk, lies at the heart of the impasse."),
    ("B5", "swapped_name", F, "At the heart of the impasse lies the Donbas region in eastern Ukraine, composed of Donetsk and Kharkiv."),
    ("B5", "added_negation", F, "Moscow no longer demands full control over the Donbas region."),
    # B6
    ("B6", "verbatim", T, "Many Ukrainians fear that yielding territory would embolden further expansionist moves."),
    ("B6", "paraphrase", T, "Zelensky has repeatedly called territorial compromise unacceptable and suggested that a proposal to give up Donbas would fail in a national referendum."),
    ("B6", "swapped_name", F, "Zelensky has suggested that any proposal to relinquish Crimea would fail in a national referendum."),
    ("B6", "added_negation", F, "Zelensky has suggested that a proposal to relinquish Donbas would not fail in a national referendum."),
    # B7
    ("B7", "verbatim", T, "European powers — including Britain, France, Germany, and Italy — were present in Geneva for consultations with Ukrainian officials."),
    ("B7", "paraphrase", T, "Britain, France, Germany and Italy were in Geneva to consult with Ukrainian officials."),
    ("B7", "swapped_name", F, "European powers including Britain, France, Germany, and Poland were present in Geneva for consultations with Ukrainian officials."),
    ("B7", "extra_claim", F, "European powers were present in Geneva for consultations with Ukrainian officials and pledged new air defence systems."),
    ("B7", "added_negation", F, "Kyiv does not view European participation as indispensable for a lasting settlement."),
    # B8
    ("B8", "verbatim", T, "The plant has been under Russian control since March 2022 and sits near the active front line."),
    ("B8", "paraphrase", T, "The Zaporizhzhia Nuclear Power Plant, Europe's largest nuclear facility, has been held by Russia since March 2022."),
    ("B8", "summary", T, "Ukraine wants the plant returned for sovereignty and safety reasons, but Moscow is unlikely to accept Zelensky's idea of joint control with American oversight."),
    ("B8", "shifted_date", F, "The plant has been under Russian control since March 2023 and sits near the active front line."),
    ("B8", "shifted_date", F, "The Zaporizhzhia plant has been under Russian control since February 2022."),
    ("B8", "swapped_name", F, "Zelensky has previously floated the possibility of joint control involving Turkish oversight."),
    ("B8", "swapped_number", F, "Another significant obstacle is the status of the Zaporizhzhia plant, Europe's second-largest nuclear facility."),
    # B9
    ("B9", "verbatim", T, "US President Donald Trump has publicly signaled impatience with the stalled progress, urging faster engagement."),
    ("B9", "paraphrase", T, "U.S. President Donald Trump has publicly shown impatience over the stalled progress and urged faster engagement."),
    ("B9", "swapped_name", F, "US President Joe Biden has publicly signaled impatience with the stalled progress, urging faster engagement."),
    ("B9", "added_negation", F, "Ukrainian officials have not rejected suggestions that Kyiv should shoulder disproportionate compromise."),
    # B10
    ("B10", "verbatim", T, "Next week marks four years since Russia’s full-scale invasion of Ukraine began."),
    ("B10", "paraphrase", T, "The war has caused tens of thousands of military and civilian casualties and displaced millions of people across Ukraine."),
    ("B10", "swapped_number", F, "Next week marks five years since Russia’s full-scale invasion of Ukraine began."),
    ("B10", "swapped_number", F, "The war has resulted in hundreds of thousands of military and civilian casualties and displaced millions across the country."),
    ("B10", "swapped_number", F, "The war has resulted in tens of thousands of casualties and displaced thousands across the country."),
    ("B10", "shifted_date", F, "Next month marks four years since Russia's full-scale invasion of Ukraine began."),
    ("B10", "partial", F, "Next week marks four years since the full-scale invasion began, and fighting continues along extended front lines with regular aerial attacks."),
    # B11
    ("B11", "verbatim", T, "While no major agreement emerged, both sides indicated that additional meetings are likely."),
    ("B11", "paraphrase", T, "Both sides said more meetings are likely, suggesting neither is closing the door on diplomacy."),
    ("B11", "added_negation", F, "Both sides indicated that additional meetings are not likely."),
    ("B11", "extra_claim", F, "Both sides indicated that additional meetings are likely, possibly in Istanbul."),
    # B12
    ("B12", "verbatim", T, "Ukrainian officials argue that such a concession would not only undermine national sovereignty but also leave the country exposed to future aggression."),
    ("B12", "paraphrase", T, "Ukrainian officials argue that conceding Donbas would undermine national sovereignty and leave the country exposed to future aggression."),
    ("B12", "added_negation", F, "For Ukraine, conceding Donbas would not mean surrendering sovereign territory."),
    ("B12", "extra_claim", F, "For Ukraine, conceding Donbas would mean surrendering sovereign territory, including the cities of Kramatorsk and Sloviansk."),
    # C1
    ("C1", "verbatim", T, "One of the earliest formal attempts—the Istanbul talks in March 2022—showed initial promise but unraveled quickly."),
    ("C1", "paraphrase", T, "The Istanbul talks of March 2022, one of the earliest formal attempts, showed early promise but quickly unraveled."),
    ("C1", "summary", T, "Early talks in Istanbul explored a framework that might have included Ukrainian neutrality, but the dialogue collapsed amid renewed hostilities."),
    ("C1", "shifted_date", F, "One of the earliest formal attempts, the Istanbul talks in March 2023, showed initial promise but unraveled quickly."),
    ("C1", "shifted_date", F, "Negotiations between Ukraine and Russia have occurred intermittently since the beginning of the war in 2021."),
    ("C1", "swapped_name", F, "Russian Foreign Minister Sergei Lavrov later dismissed the talks as irrelevant, doubling down on military objectives."),
    ("C1", "swapped_name", F, "One of the earliest formal attempts, the Minsk talks in March 2022, showed initial promise but unraveled quickly."),
    ("C1", "extra_claim", F, "Putin later dismissed the talks as irrelevant after Western leaders urged Kyiv to keep fighting."),
    # C2
    ("C2", "verbatim", T, "Recent reporting from Reuters highlights that positions have only hardened since then."),
    ("C2", "paraphrase", T, "Ukraine wants Russian forces fully withdrawn and its 1991 borders restored."),
    ("C2", "shifted_date", F, "Ukraine demands the full withdrawal of Russian forces and the restoration of its 1994 borders."),
    ("C2", "swapped_name", F, "Recent reporting from Bloomberg highlights that positions have only hardened since then."),
    ("C2", "added_negation", F, "Russia insists on recognizing its annexation of occupied territories but does not seek guarantees that Ukraine will not join NATO."),
    ("C2", "partial", F, "Ukraine demands the restoration of its 1991 borders, and Zelensky says any proposal to relinquish Donbas would fail in a referendum."),
    # C3
    ("C3", "verbatim", T, "As Foreign Affairs notes, peace negotiations are influenced not only by external diplomacy but also by the internal logic of war."),
    ("C3", "paraphrase", T, "When Ukraine does well on the battlefield, as in its 2022 counteroffensive, its leaders are less willing to offer concessions."),
    ("C3", "shifted_date", F, "When Ukraine performs well militarily, as it did during its 2023 counteroffensive, its leaders are less inclined to offer concessions."),
    ("C3", "added_negation", F, "When Russia faces setbacks, it does not entrench its demands."),
    # C4
    ("C4", "verbatim", T, "Despite public calls for dialogue, the diplomatic channels available to both parties have become increasingly limited."),
    ("C4", "paraphrase", T, "According to the RAND Corporation, there is no neutral broker with enough leverage and credibility to enforce terms both sides would accept."),
    ("C4", "summary", T, "Mediation attempts by Turkey, China and African delegations have produced few substantive results."),
    ("C4", "swapped_name", F, "Attempts by Turkey, India, and even African delegations to mediate have resulted in symbolic gestures but few substantive results."),
    ("C4", "extra_claim", F, "Attempts by Turkey, China, and African delegations to mediate have resulted in symbolic gestures, including a short Easter truce."),
    # C5
    ("C5", "verbatim", T, "Conversely, the Kremlin accuses the West of obstructing talks by supplying Ukraine with weapons and political support."),
    ("C5", "paraphrase", T, "Trust has fallen to near zero, making diplomacy more performative than meaningful."),
    ("C5", "swapped_name", F, "Western powers, particularly Canada and the European Union, remain skeptical of Russia's sincerity in negotiations."),
    ("C5", "added_negation", F, "Western powers, particularly the United States and European Union, are not skeptical of Russia's sincerity in negotiations."),
    # C6
    ("C6", "verbatim", T, "In Russia, prolonged war with high costs could erode internal support, even within elite circles, though the Kremlin controls most dissent tightly."),
    ("C6", "paraphrase", T, "Zelensky may come under growing pressure to deliver results, especially as elections near."),
    ("C6", "swapped_name", F, "In Ukraine, Prime Minister Denys Shmyhal may face increasing pressure to deliver results, especially as elections near."),
    ("C6", "extra_claim", F, "In Ukraine, President Zelenskyy may face increasing pressure to deliver results, especially as elections near, with polls showing his approval falling."),
    # C7
    ("C7", "verbatim", T, "This would leave Ukraine’s sovereignty in limbo, creating security and political uncertainty for years to come."),
    ("C7", "paraphrase", T, "If neither side makes decisive battlefield gains and no deal is reached, Ukraine could end up in a long-term frozen conflict."),
    ("C7", "swapped_name", F, "Ukraine may enter a long-term frozen conflict scenario similar to Moldova's Transnistria or Armenia's breakaway regions."),
    ("C7", "added_negation", F, "If neither side achieves decisive battlefield gains, Ukraine will never enter a long-term frozen conflict scenario."),
    # C8
    ("C8", "verbatim", T, "As the war in Ukraine drags into its third year, a diplomatic resolution remains elusive despite multiple rounds of peace negotiations, international pressure, and continued battlefield attrition."),
    ("C8", "paraphrase", T, "The deeper impasse is shaped by clashing strategic objectives, historical trauma and a lack of trust."),
    ("C8", "swapped_number", F, "As the war in Ukraine drags into its fifth year, a diplomatic resolution remains elusive."),
    ("C8", "extra_claim", F, "As the war drags into its third year, a diplomatic resolution remains elusive, and both armies are running short of ammunition."),
    # C9
    ("C9", "verbatim", T, "Ongoing war efforts and reconstruction needs will place a sustained financial burden on Ukraine and its Western backers."),
    ("C9", "paraphrase", T, "In donor countries, especially in the EU and the United States, this could cause political backlash or aid fatigue if voters don't see progress toward peace."),
    ("C9", "added_negation", F, "Ongoing war efforts and reconstruction needs will not place a financial burden on Ukraine's Western backers."),
    ("C9", "swapped_name", F, "For donor countries, especially Japan and the U.S., this could lead to political backlash or aid fatigue."),
    # C10
    ("C10", "verbatim", T, "The invasion itself has transformed public opinion and hardened national resolve."),
    ("C10", "paraphrase", T, "Neutrality, once seen as a potential bridge, has lost legitimacy in Ukraine."),
    ("C10", "added_negation", F, "The idea of neutrality has not lost legitimacy within Ukraine."),
    # D1
    ("D1", "verbatim", T, "Peace talks aimed at ending Europe’s most devastating conflict in generations concluded in Geneva this week with only limited progress, as internationally mediated negotiations between Russia and Ukraine exposed the deep divides that continue to hinder a comprehensive settlement."),
    ("D1", "paraphrase", T, "The mediators included officials from the European Union and the United Nations."),
    ("D1", "summary", T, "Delegations met behind closed doors in Geneva, and the talks ended with only limited progress."),
    ("D1", "shifted_date", F, "Peace talks aimed at ending Europe's most devastating conflict in generations concluded in Geneva last week with only limited progress."),
    ("D1", "swapped_name", F, "Delegations met behind closed doors in Geneva under the guidance of mediators from the African Union and the United Nations."),
    ("D1", "extra_claim", F, "Peace talks concluded in Geneva this week with only limited progress, and the delegations agreed to a Christmas ceasefire."),
    # D2
    ("D2", "verbatim", T, "Russian representatives, meanwhile, emphasized what they called new territorial realities and pressed for limitations on Ukraine’s future military alignment, framing their demands as essential components of a broader security architecture they contend must be recalibrated."),
    ("D2", "paraphrase", T, "Ukrainian negotiators argued that a ceasefire without structural assurances would merely postpone further instability."),
    ("D2", "added_negation", F, "Ukrainian negotiators insisted that an agreement need not rest on the restoration of internationally recognized borders."),
    ("D2", "extra_claim", F, "Russian representatives emphasized new territorial realities and demanded that Ukraine cap the size of its army at 50,000 troops."),
    # D3
    ("D3", "verbatim", T, "One European diplomat characterized the outcome as movement without momentum, noting that although communication channels remain open, the gap between the parties on core political questions remains substantial and deeply entrenched."),
    ("D3", "paraphrase", T, "Negotiators failed to agree on a comprehensive ceasefire framework, though technical working groups made incremental progress on humanitarian corridors and prisoner exchanges."),
    ("D3", "added_negation", F, "Technical working groups made no progress on humanitarian corridors, prisoner exchanges, and verification mechanisms."),
    ("D3", "swapped_name", F, "One American diplomat characterized the outcome as movement without momentum."),
    ("D3", "extra_claim", F, "Technical working groups made incremental progress on humanitarian corridors and prisoner exchanges, and a swap of 500 prisoners was agreed."),
    ("D3", "partial", F, "Technical working groups made incremental progress on prisoner exchanges, and a swap was later executed in phases over three days."),
    # D4
    ("D4", "verbatim", T, "Swiss officials hosting the negotiations described the dialogue as constructive in tone, emphasizing that sustained engagement itself constitutes a diplomatic achievement after years marked by escalation and hardened rhetoric, even in the absence of a joint communiqué."),
    ("D4", "paraphrase", T, "Mediators are quietly exploring follow-up sessions, but no formal roadmap has been announced."),
    ("D4", "swapped_name", F, "Austrian officials hosting the negotiations described the dialogue as constructive in tone."),
    ("D4", "added_negation", F, "Swiss officials hosting the negotiations did not describe the dialogue as constructive in tone."),
    # D5
    ("D5", "verbatim", T, "The broader geopolitical context loomed over the proceedings, as Western governments reaffirmed military and financial support for Ukraine while urging a just peace, and Russia sought to leverage relationships beyond Europe to offset diplomatic isolation and reinforce its bargaining position."),
    ("D5", "paraphrase", T, "Leaders in Kyiv face a public wary of concessions that could be seen as legitimizing territorial losses."),
    ("D5", "extra_claim", F, "Western governments reaffirmed military and financial support for Ukraine, including a new 50 billion euro loan."),
    ("D5", "swapped_name", F, "Officials in Minsk balance diplomatic engagement with domestic narratives centered on strategic endurance."),
    # E1
    ("E1", "verbatim", T, "Held at Istanbul’s Dolmabahçe Palace, these were the first direct peace talks in over three years."),
    ("E1", "paraphrase", T, "In May 2025, Russia and Ukraine agreed in Istanbul to swap 1000 prisoners each, the largest exchange of the conflict."),
    ("E1", "paraphrase", T, "The Turkish-facilitated exchange of one thousand prisoners each unfolded in phases over three days."),
    ("E1", "summary", T, "Narrowly focused agreements, like the Istanbul prisoner exchange, can work even when broader political solutions remain out of reach."),
    ("E1", "swapped_number", F, "In May 2025, Russia and Ukraine agreed in Istanbul to exchange 1,200 prisoners each."),
    ("E1", "swapped_number", F, "The exchange, facilitated by Turkey, unfolded in phases over five days."),
    ("E1", "swapped_number", F, "Held at Istanbul's Dolmabahçe Palace, these were the first direct peace talks in over two years."),
    ("E1", "swapped_number", F, "A significant breakthrough came in May 2025, when Russia and Ukraine agreed in Istanbul to exchange 100 prisoners each."),
    ("E1", "shifted_date", F, "A significant breakthrough came in April 2025, when Russia and Ukraine agreed in Istanbul to exchange 1,000 prisoners each."),
    ("E1", "swapped_name", F, "The exchange, facilitated by Qatar, unfolded in phases over three days."),
    ("E1", "swapped_name", F, "A significant breakthrough came in May 2025, when Russia and Ukraine agreed in Ankara to exchange 1,000 prisoners each."),
    ("E1", "added_negation", F, "The exchange, facilitated by Turkey, did not rely on verifiable lists or third-party oversight."),
    # E2
    ("E2", "verbatim", T, "Switzerland’s June 2024 summit aimed to build a roadmap for peace, focusing on nuclear safety, humanitarian aid, navigation, and prisoners."),
    ("E2", "paraphrase", T, "Russia did not attend the Swiss summit, and China and Brazil subsequently stayed away as well."),
    ("E2", "paraphrase", T, "Mediators now favour a sequenced approach that starts with humanitarian and safety agreements and later scales up to ceasefire terms and monitoring."),
    ("E2", "shifted_date", F, "Switzerland's June 2023 summit aimed to build a roadmap for peace."),
    ("E2", "shifted_date", F, "Switzerland's July 2024 summit aimed to build a roadmap for peace, focusing on nuclear safety and humanitarian aid."),
    ("E2", "swapped_name", F, "However, Russia's absence, and the subsequent non-participation of China and India, underscored a key issue."),
    ("E2", "extra_claim", F, "Switzerland's June 2024 summit, attended by more than 90 countries, aimed to build a roadmap for peace."),
    ("E2", "partial", F, "Switzerland's June 2024 summit focused on nuclear safety and humanitarian aid, and Russia later agreed to a 1,000-for-1,000 prisoner swap in Istanbul."),
    # E3
    ("E3", "verbatim", T, "In May 2025, Russia and Ukraine held direct talks at Istanbul’s Dolmabahçe Palace, agreeing to a 1,000-for-1,000 prisoner swap—the largest of the war."),
    ("E3", "paraphrase", T, "Russia and Ukraine agreed to a 1,000-for-1,000 prisoner swap at Istanbul's Dolmabahce Palace in May 2025."),
    ("E3", "shifted_date", F, "In May 2024, Russia and Ukraine held direct talks at Istanbul's Dolmabahçe Palace."),
    ("E3", "swapped_number", F, "In May 2025, Russia and Ukraine agreed to a 1,000-for-1,500 prisoner swap."),
    ("E3", "swapped_number", F, "Facilitated by Turkey, the exchange was executed in phases over two days, relying on verifiable lists and oversight."),
    ("E3", "swapped_name", F, "In May 2025, Russia and Ukraine held direct talks at Istanbul's Ciragan Palace."),
    ("E3", "added_negation", F, "This case proves that narrowly scoped, verifiable deals cannot succeed amid broader disputes."),
    # E4
    ("E4", "verbatim", T, "The Russia-Ukraine war continues to defy a negotiated resolution despite renewed diplomatic efforts, direct talks, and high-profile summits."),
    ("E4", "paraphrase", T, "Recent meetings have produced limited humanitarian progress, such as the largest prisoner-of-war exchange since 2022."),
    ("E4", "shifted_date", F, "Recent meetings have achieved limited humanitarian progress, like the largest prisoner-of-war exchange since 2014."),
    ("E4", "extra_claim", F, "Issues like territorial control, security guarantees, and sanctions block a comprehensive peace deal, and the European Union has threatened further sanctions."),
    # E5
    ("E5", "verbatim", T, "Western capitals tie relief to verifiable steps, while Russia seeks early concessions, creating a sequencing challenge."),
    ("E5", "paraphrase", T, "Inclusive talks involving both principals and credible mediators will be needed to move beyond incremental gains."),
    ("E5", "added_negation", F, "Sanctions and reparations no longer remain sticking points."),
    # E6
    ("E6", "verbatim", T, "Yes, a 1,000-for-1,000 prisoner exchange was agreed in Istanbul in May 2025, the largest of the conflict."),
    ("E6", "paraphrase", T, "Talks in Istanbul in May 2025 produced a concrete outcome, a 1000-for-1000 prisoner exchange."),
    ("E6", "swapped_number", F, "A 1,000-for-1,000 prisoner exchange was agreed in Istanbul in May 2025, the second largest of the conflict."),
    ("E6", "swapped_number", F, "A 2,000-for-2,000 prisoner exchange was agreed in Istanbul in May 2025."),
    ("E6", "shifted_date", F, "A 1,000-for-1,000 prisoner exchange was agreed in Istanbul in May 2026."),
    # E7
    ("E7", "verbatim", T, "Binding agreements on sovereignty and security require both sides; summits without Russia, like Switzerland’s 2024 event, lack political traction."),
    ("E7", "shifted_date", F, "Summits without Russia, like Switzerland's 2023 event, lack political traction."),
    ("E7", "added_negation", F, "Binding agreements on sovereignty and security do not require both sides."),
    # unrelated: a true sentence from elsewhere in the corpus against a passage that does not state it
    ("A11", "unrelated", F, "Russian negotiator Vladimir Medinsky characterized the discussions as “businesslike.”"),
    ("B5", "unrelated", F, "Switzerland's June 2024 summit aimed to build a roadmap for peace."),
    ("C4", "unrelated", F, "The plant has been under Russian control since March 2022."),
    ("E5", "unrelated", F, "Energy prices in Europe rose sharply in earlier stages of the war."),
    ("D4", "unrelated", F, "Ukraine demands the full withdrawal of Russian forces and the restoration of its 1991 borders."),
    ("B10", "unrelated", F, "Kyiv has expressed interest in deeper cooperation with Western institutions, including NATO."),
    ("A13", "unrelated", F, "Both sides indicated that additional meetings are likely."),
    ("A12", "unrelated", F, "Delegations met behind closed doors in the Swiss city."),
]

P.update({
    "F1": span("000", "Several countries and international organizations", "support for diplomatic solutions."),
    "F2": span("000", "Diplomatic observers note that mediation", "when military operations continue."),
    "F3": span("000", "Previous ceasefire agreements have faced", "large-scale agreements remain challenging."),
    "F4": span("001", "The United States has taken a leading role", "tangible outcomes remain limited."),
    "F5": span("002", "This dynamic creates a feedback loop", "should oversee a post-war settlement."),
    "F6": span("002", "The absence of a diplomatic breakthrough", "refugee flows and economic instability."),
    "F7": span("004", "The near-term outlook focuses", "paving the way for ceasefire discussions."),
    "F8": span("003", "Humanitarian organizations welcomed", "rather than resolving its underlying causes."),
})

# Late batch: written after the checker and its thresholds were frozen;
# appended (not shuffled) so that its accuracy can be reported separately.
LATE = [
    ("F1", "paraphrase", T, "Both the EU and the UN have voiced support for diplomatic solutions."),
    ("F1", "swapped_name", F, "The European Union and NATO have both expressed support for diplomatic solutions."),
    ("F1", "summary", T, "Various countries and international bodies have tried to facilitate dialogue between Moscow and Kyiv."),
    ("F1", "extra_claim", F, "Several countries have attempted to facilitate dialogue between Moscow and Kyiv, with the Vatican sending a special envoy."),
    ("F2", "paraphrase", T, "Talks tend to move more slowly while military operations are still under way."),
    ("F2", "added_negation", F, "Diplomatic observers note that mediation efforts are not complicated by the fighting on the ground."),
    ("F2", "extra_claim", F, "Negotiations often move more slowly when military operations continue, as happened during the 2023 counteroffensive."),
    ("F3", "paraphrase", T, "Past ceasefire agreements were violated, making future commitments harder to secure."),
    ("F3", "summary", T, "Observers believe monitoring mechanisms and third-party guarantees could help rebuild confidence."),
    ("F3", "added_negation", F, "Previous ceasefire agreements have not faced violations."),
    ("F3", "extra_claim", F, "Previous ceasefire agreements, such as the Minsk accords, have faced violations."),
    ("F4", "verbatim", T, "The United States has taken a leading role in brokering talks, with diplomatic efforts intensifying in recent months."),
    ("F4", "paraphrase", T, "American officials have at times been cautiously optimistic, but concrete results remain limited."),
    ("F4", "shifted_date", F, "The United States has taken a leading role in brokering talks, with diplomatic efforts intensifying in recent years."),
    ("F4", "swapped_name", F, "The European Union has taken a leading role in brokering talks."),
    ("F5", "paraphrase", T, "RAND says the problem is worsened by the absence of enforceable ceasefire mechanisms and of external security guarantees for Ukraine."),
    ("F5", "added_negation", F, "According to the RAND Corporation, there is no disagreement over what kind of international presence should oversee a post-war settlement."),
    ("F5", "paraphrase", T, "Each side waits for a better position before returning to the table, while mistrust deepens."),
    ("F5", "swapped_name", F, "According to the Brookings Institution, this is compounded by the absence of enforceable ceasefire mechanisms."),
    ("F6", "verbatim", T, "The absence of a diplomatic breakthrough means the war is likely to continue into the foreseeable future."),
    ("F6", "added_negation", F, "Civilian casualties, military deaths, and infrastructure destruction will not escalate."),
    ("F6", "extra_claim", F, "The humanitarian crisis will deepen across Ukraine, with the UN estimating that 10 million people need aid."),
    ("F6", "paraphrase", T, "Without a diplomatic breakthrough, the war will probably go on for the foreseeable future."),
    ("F7", "paraphrase", T, "Smaller steps like these can lower risks and build trust, opening the way to ceasefire talks."),
    ("F7", "swapped_name", F, "The Geneva swap shows that humanitarian agreements can progress with third-party support."),
    ("F7", "extra_claim", F, "The near-term outlook focuses on modular, pragmatic deals, such as a moratorium on strikes against energy infrastructure."),
    ("F8", "paraphrase", T, "Humanitarian groups welcomed even modest steps forward."),
    ("F8", "added_negation", F, "Humanitarian organizations did not welcome the modest steps forward."),
    ("F8", "summary", T, "Some analysts favour phased agreements built on confidence-building measures, while others warn incremental steps could freeze the conflict."),
    ("B10", "swapped_number", F, "Next week marks four years since Russia's full-scale invasion began, and the war has displaced hundreds of thousands across the country."),
    ("E1", "paraphrase", T, "Turkey facilitated the exchange, which took place in stages over three days."),
    ("E1", "shifted_date", F, "In May 2025, Russia and Ukraine agreed in Istanbul to exchange 1,000 prisoners each at their first direct talks since 2019."),
    ("B8", "paraphrase", T, "Europe's largest nuclear power plant, Zaporizhzhia, is located near the active front line."),
    ("C2", "added_negation", F, "Recent reporting from Reuters highlights that positions have not hardened since then."),
    ("D4", "shifted_date", F, "As summer conditions continue to test military logistics, mediators are quietly exploring follow-up sessions."),
    ("E6", "paraphrase", T, "The largest prisoner exchange of the conflict, 1,000 for 1,000, was agreed in Istanbul in May 2025."),
    ("E2", "swapped_number", F, "Switzerland's June 2024 summit focused on three areas: nuclear safety, humanitarian aid and navigation."),
]


def main(out):
    rows = list(PAIRS)
    random.Random(20250612).shuffle(rows)
    rows += LATE
    with open(out, "w", encoding="utf-8") as fh:
        for i, (pk, kind, sup, sent) in enumerate(rows, 1):
            rec = {"id": f"p{i:03d}", "sentence": sent, "passage": P[pk],
                   "supported": sup, "kind": kind}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    from collections import Counter
    c = Counter(k for _, k, _, _ in rows)
    print(len(rows), sum(s for _, _, s, _ in rows) / len(rows), dict(c))


if __name__ == "__main__":
    import sys
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pairs.jsonl")
