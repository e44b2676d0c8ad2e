{#- enrichment.md §2.4 capital (registerCaptial, actualCapi) → NUMERIC(20,2) in yuan:
    the §0.4 placeholders, currency symbols, thousands separators and spaces go first
    (number_text, macros/cleansing), then the currency words (人民币, 美元, 港元, 港币,
    欧元, 日元, 英镑, 元); a trailing 万 multiplies by 10⁴, 亿 by 10⁸:
    `1,000万元` → 10000000, `5000万人民币` → 50000000, `1.5亿元` → 150000000. Blank and
    unstated → NULL; anything else, or an amount NUMERIC(20,2) cannot hold → NULL,
    reported by _cleansing_status. The currency stays in the payload's own fields. -#}
{% macro parse_capital(text_expr) -%}
    (select
        case when abs(scaled.amount) < 1e18 then scaled.amount end
     from (
        select
            round(
                unit_stripped.parts[1]::numeric
                * case unit_stripped.parts[2] when '万' then 10000 when '亿' then 100000000 else 1 end,
                2
            ) as amount
        from (
            select regexp_match(
                regexp_replace({{ number_text(text_expr) }}, '人民币|美元|港元|港币|欧元|日元|英镑|元', '', 'g'),
                '^([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(万|亿)?$'
            ) as parts
        ) as unit_stripped
     ) as scaled)
{%- endmacro %}

{#- colleagues_num → INTEGER: `1,200`, `1200人`, `1200.0` → 1200; unstated (the service's
    `企业选择不公示`) → NULL; other text → NULL, reported by _cleansing_status. -#}
{% macro parse_headcount(text_expr) -%}
    (substring({{ number_text(text_expr) }} from '^([0-9]{1,9})(?:[.]0+)?人?$'))::integer
{%- endmacro %}
