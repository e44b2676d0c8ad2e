{#- §0.6 customer-name normalisation, one application of N. The rule lists live in
    customer_name_rules() below. Returns '' for "no name"; callers turn that into NULL.
    Decisions (docs/business-rules.md): a status marker at the *start* of a name is only
    stripped when bracketed or followed by a separator, so `原平市某煤业有限公司` keeps
    its first character (D2); the markers are one alternation per end, longest first,
    rather than one regular expression per marker (D18: PostgreSQL caches only 32
    compiled expressions, and 90 of them per name made a month take minutes). Every step
    is a subquery with `limit all offset 0`, which PostgreSQL never pulls up into its
    caller (a bare `offset 0` does the same, but sqlfluff cannot parse it without `from`).
    Pulled up, a step's expression is copied into each place the next step names it
    (step 8 names step 7 three times, the second application names the first four
    times), and one name was normalised dozens of times (6× slower on 16,000 names). -#}

{% macro customer_name_rules() -%}
    {{ return({
        "protected_names": ["保留账户管理"],
        "invalid_placeholders": ["null", "NULL", "空白", "无", "N/A", "n/a", "-", "--", "—", "——"],
        "status_markers": [
            "已转出", "待转出", "待转移", "终止", "转出", "转移", "保留", "暂停", "注销", "清算", "解散", "吊销",
            "撤销", "停业", "歇业", "关闭", "迁出", "迁入", "变更", "合并", "分立", "破产", "重整", "托管", "接管",
            "整顿", "清盘", "退出", "终结", "结束", "完结", "已作废", "作废", "存量", "原", "转移终止", "已终止",
            "保留账户", "已转移终止", "本部", "未使用", "集合", "企业年金计划",
        ],
        "enterprise_types": [
            "特殊普通合伙", "普通合伙", "有限合伙", "有限公司", "个人独资", "全民所有制", "集体所有制", "股份合作",
            "个体工商户",
        ],
    }) }}
{%- endmacro %}

{% macro normalise_company_name(expr) -%}
    {%- set rules = customer_name_rules() -%}
    {%- set markers = [] -%}
    {%- for length in range(12, 0, -1) -%}
        {%- for marker in rules.status_markers if marker | length == length -%}
            {%- do markers.append(marker) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set alternation = markers | join('|') -%}
    (select
        case
            when step0.raw_text is null then ''
            when upper(btrim(step0.raw_text)) in ({{ "'" ~ (rules.protected_names | join("', '")) ~ "'" }})
                then upper(btrim(step0.raw_text))
            when btrim(step0.raw_text) in ({{ "'" ~ (rules.invalid_placeholders | join("', '")) ~ "'" }}) then ''
            else step11.s
        end
     from (select ({{ expr }})::text as raw_text limit all offset 0) as step0
     -- 3. all whitespace, 4. decorative characters
     cross join lateral (
        select translate(regexp_replace(step0.raw_text, '[[:space:]\u00a0\u3000\ufeff]+', '', 'g'), '「」『』"', '') as s
        limit all offset 0
     ) as step4
     -- 5. one leading bracket group
     cross join lateral (select regexp_replace(step4.s, '^[(（][^)）]*[)）]', '') as s limit all offset 0) as step5
     -- 6. 及下属子企业 anywhere, then one business suffix at the end
     cross join lateral (
        select regexp_replace(
            replace(step5.s, '及下属子企业', ''),
            '(\(团托\)|（团托）|-[A-Za-z][A-Za-z0-9]*|-[0-9]+|-养老|-福利)$', ''
        ) as s
        limit all offset 0
     ) as step6
     -- 7. status markers (one alternation, longest first): at the start when bracketed or
     --    followed by a separator (decision D2), at the end after a separator or bracket
     cross join lateral (
        select regexp_replace(
            regexp_replace(step6.s, '^(?:[(（](?:{{ alternation }})[)）][-—]*|(?:{{ alternation }})[-—]+)', ''),
            '(?:[-—]+[(（]?|[(（])(?:{{ alternation }})[)）]?$', ''
        ) as s
        limit all offset 0
     ) as step7
     -- 8. a trailing bracket group, unless it names an enterprise type
     cross join lateral (
        select case
            when step7.s ~ '[(（][^()（）]*[)）]$'
                and substring(step7.s from '[(（]([^()（）]*)[)）]$') !~ '({{ rules.enterprise_types | join("|") }})'
                then regexp_replace(step7.s, '[(（][^()（）]*[)）]$', '')
            else step7.s
        end as s
        limit all offset 0
     ) as step8
     -- 9. full-width ASCII to half-width (only where there is any: translate() is slow), 10. brackets to full-width, 11. trailing separators, 12. upper-case
     cross join lateral (
        select upper(regexp_replace(
            translate(case when step8.s ~ '[！-～]' then translate(step8.s, '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～', '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~') else step8.s end, '()', '（）'),
            '([-—.。]|（）)+$', ''
        )) as s
        limit all offset 0
     ) as step11)
{%- endmacro %}

{#- What is stored and hashed: N applied twice, '' as NULL (spec §0.6: the original
    stores and keys N(N(raw)); twice keeps temp ids identical to the original's). -#}
{% macro customer_name(expr) -%}
    nullif({{ normalise_company_name(normalise_company_name(expr)) }}, '')
{%- endmacro %}
