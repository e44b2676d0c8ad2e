{#- The write of the reference tables (enrichment.md §4.2, §4.5), from the candidate models
    named, in their `order` (a portfolio's plan first). Each model's meta `reference`
    says where and how:
      table, key — the target table and its key;
      mode — `insert_missing` (the back-fill: keys the table lacks, existing rows never
             touched), `merge_tags` (as insert_missing, and an existing customer's `tags`
             gain the new elements — a distinct union, old order kept; decision D20),
             `upsert` (reference_sync: the authoritative copy's values replace the
             table's; a value the copy leaves blank is kept — decision D22) or `replace`
             (reference_sync: the table's rows are the copy's).
    Returns the SQL statements; migrate_published_tables runs them in its transaction. -#}
{% macro write_references(models) %}
    {%- set nodes = [] %}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name in models %}
        {%- do nodes.append(node) %}
    {%- endfor %}
    {%- set statements = [] %}
    {%- for node in nodes | sort(attribute='config.meta.reference.order') %}
        {%- set reference = node.config.meta.reference %}
        {%- set source = api.Relation.create(database=target.database, schema=node.schema, identifier=node.alias) %}
        {%- set columns = [] %}
        {%- for column in node.columns.values() %}{% do columns.append(adapter.quote(column.name)) %}{% endfor %}
        {%- set key = adapter.quote(reference.key) %}
        {%- set others = columns | reject('equalto', key) | list %}
        {%- if reference.mode == 'replace' %}
            {%- do statements.append('delete from ' ~ reference.table) %}
        {%- endif %}
        {%- set insert -%}
            insert into {{ reference.table }} as existing ({{ columns | join(', ') }})
            select {{ columns | join(', ') }} from {{ source }}
            on conflict ({{ key }}) do
            {%- if reference.mode == 'merge_tags' %} update set
                tags = existing.tags || (
                    select coalesce(jsonb_agg(tag), '[]'::jsonb)
                    from jsonb_array_elements(excluded.tags) as new_tags (tag)
                    where not existing.tags @> jsonb_build_array(tag)
                ),
                updated_at = now()
            where not existing.tags @> excluded.tags
            {%- elif reference.mode == 'upsert' %} update set
                {%- for column in others %}
                {{ column }} = coalesce(excluded.{{ column }}, existing.{{ column }}),
                {%- endfor %}
                {%- if reference.get('updated_at') %}
                updated_at = now(),
                {%- endif %}
                {{ key }} = excluded.{{ key }}
            where ({% for c in others %}existing.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
                is distinct from ({% for c in others %}coalesce(excluded.{{ c }}, existing.{{ c }}){{ ', ' if not loop.last }}{% endfor %})
            {%- else %} nothing
            {%- endif %}
        {%- endset %}
        {%- do statements.append(insert) %}
    {%- endfor %}
    {%- do return(statements) %}
{% endmacro %}
