{#- enrichment.md §2.5 and §3.2: the rules of a findLabels label row. -#}

{#- Level `level` (1–4) of a label whose levels are the expressions `levels`: the service
    delivers region labels as lv1 = `地区分类` (lv2 province, lv3 city), so those move up
    one level (lv1 ← lv2, lv2 ← lv3, lv3 ← lv4, lv4 ← NULL). A `地区分类` without a lv2
    has nothing to move up and stays as it is (as in the original). -#}
{% macro region_label_level(levels, level) -%}
    case
        when {{ levels[0] }} = '地区分类' and {{ levels[1] }} is not null
            then {{ levels[level] if level < 4 else 'null' }}
        else {{ levels[level - 1] }}
    end
{%- endmacro %}

{#- A label's company_id: its own companyId, else the first non-NULL companyId of its
    siblings (the labels of the same group, in `sibling_order`), else the company the
    labels were asked for. A window expression. -#}
{% macro label_company_id(company_id, siblings, sibling_order, asked_for) -%}
    coalesce(
        {{ company_id }},
        first_value({{ company_id }}) over (
            partition by {{ siblings }}
            order by {{ company_id }} is null, {{ sibling_order }}
        ),
        {{ asked_for }}
    )
{%- endmacro %}
