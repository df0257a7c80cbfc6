//! The pages' words in the five languages a tenant may choose: Fluent files in `web/locales/`,
//! compiled into the binary. A key missing in a language falls back to English; every key of
//! English must be in every other file (a unit test holds them to it).

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::LazyLock;
use wfm_ops::tenants::Language;

const FILES: [(Language, &str); 5] = [
    (Language::English, include_str!("../locales/en.ftl")),
    (Language::ChineseSimplified, include_str!("../locales/zh-Hans.ftl")),
    (Language::ChineseTraditional, include_str!("../locales/zh-Hant.ftl")),
    (Language::Russian, include_str!("../locales/ru.ftl")),
    (Language::Polish, include_str!("../locales/pl.ftl")),
];

struct Bundles(Vec<(Language, FluentBundle<FluentResource>)>);

static BUNDLES: LazyLock<Bundles> = LazyLock::new(|| {
    Bundles(
        FILES
            .iter()
            .map(|(language, text)| {
                let id: unic_langid::LanguageIdentifier = language.as_str().parse().expect("the five language tags parse");
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // Unicode isolation marks would land inside HTML attributes and CSV cells.
                bundle.set_use_isolating(false);
                let resource = FluentResource::try_new((*text).to_owned()).unwrap_or_else(|(_, errors)| panic!("web/locales/{}.ftl: {errors:?}", language.as_str()));
                bundle.add_resource(resource).unwrap_or_else(|errors| panic!("web/locales/{}.ftl: {errors:?}", language.as_str()));
                (*language, bundle)
            })
            .collect(),
    )
});

/// The words of one language, as a page uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub language: Language,
}

impl Words {
    pub fn new(language: Language) -> Self {
        Self { language }
    }

    /// The message `key`, in this language or else in English; the key itself when neither has it.
    pub fn get(&self, key: &str) -> String {
        self.with(key, &[])
    }

    /// The message `key` with its `{ $name }` placeholders filled.
    pub fn with(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, FluentValue::from(*value));
        }
        [self.language, Language::English]
            .iter()
            .find_map(|language| {
                let (_, bundle) = BUNDLES.0.iter().find(|(l, _)| l == language)?;
                let pattern = bundle.get_message(key)?.value()?;
                let mut errors = vec![];
                Some(bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned())
            })
            .unwrap_or_else(|| key.to_owned())
    }

    /// An agent state of the store (`on_call`, `not_ready:break`) in words; one without words
    /// is shown as it is stored.
    pub fn state(&self, state: &str) -> String {
        let (name, reason) = state.split_once(':').unwrap_or((state, ""));
        let key = format!("state-{name}");
        match self.with(&key, &[("reason", reason)]) {
            unknown if unknown == key => state.to_owned(),
            words => words,
        }
    }

    /// A day of the week, short (`Mon`, `пн`).
    pub fn weekday(&self, day: chrono::Weekday) -> String {
        self.get(&format!("weekday-{}", day.number_from_monday()))
    }

    /// The BCP 47 tag, for `<html lang>`.
    pub fn tag(&self) -> &'static str {
        self.language.as_str()
    }
}

/// The language a browser asks for first among ours (`Accept-Language: ru-RU,ru;q=0.9,en;q=0.8`).
pub fn from_accept_language(header: &str) -> Option<Language> {
    header.split(',').find_map(|part| {
        let tag = part.split(';').next()?.trim().to_ascii_lowercase();
        match tag.as_str() {
            "zh-hant" | "zh-tw" | "zh-hk" | "zh-mo" => Some(Language::ChineseTraditional),
            t if t.starts_with("zh") => Some(Language::ChineseSimplified),
            t if t.starts_with("ru") => Some(Language::Russian),
            t if t.starts_with("pl") => Some(Language::Polish),
            t if t.starts_with("en") => Some(Language::English),
            _ => None,
        }
    })
}

/// Every language, for the language switch.
pub fn languages() -> impl Iterator<Item = (Language, String)> {
    FILES.iter().map(|(language, _)| (*language, Words::new(*language).get("language-name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with(['#', ' ']) && l.contains(" =")).filter_map(|l| l.split(" =").next()).collect()
    }

    #[test]
    fn every_language_has_every_english_key_and_no_other() {
        let english = keys(FILES[0].1);
        assert!(english.len() > 40, "{} keys", english.len());
        for (language, text) in &FILES[1..] {
            let theirs = keys(text);
            for key in &english {
                assert!(theirs.contains(key), "web/locales/{}.ftl lacks {key}", language.as_str());
            }
            for key in &theirs {
                assert!(english.contains(key), "web/locales/{}.ftl has {key}, which English lacks", language.as_str());
            }
        }
    }

    #[test]
    fn messages_are_found_filled_and_fall_back() {
        let russian = Words::new(Language::Russian);
        assert_eq!(russian.get("sign-in"), "Войти");
        assert_eq!(Words::new(Language::English).with("signed-in-as", &[("user", "pat"), ("role", "planner")]), "pat (planner)");
        assert_eq!(russian.get("no-such-key"), "no-such-key");
    }

    #[test]
    fn accept_language_picks_the_first_we_have() {
        assert_eq!(from_accept_language("de-DE,ru;q=0.9,en;q=0.8"), Some(Language::Russian));
        assert_eq!(from_accept_language("zh-TW,zh;q=0.9"), Some(Language::ChineseTraditional));
        assert_eq!(from_accept_language("zh-CN"), Some(Language::ChineseSimplified));
        assert_eq!(from_accept_language("fr"), None);
    }

    #[test]
    fn states_and_weekdays_have_words() {
        let ru = Words::new(Language::Russian);
        assert_eq!(ru.state("on_call"), "в разговоре");
        assert_eq!(ru.state("not_ready:break"), "не готов (break)");
        assert_eq!(ru.state("dancing"), "dancing");
        assert_eq!(Words::new(Language::English).weekday(chrono::Weekday::Mon), "Mon");
        assert_eq!(Words::new(Language::Polish).weekday(chrono::Weekday::Sun), "niedz.");
    }
}
