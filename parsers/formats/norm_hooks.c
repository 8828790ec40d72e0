/*
 * norm_hooks.c: what the family hooks (norm_ual.c, norm_signin.c,
 * norm_audit.c, norm_emit.c) read and set on the record being normalized:
 * role cells, fields, auxiliary texts. A leaf below formats.c: the format
 * table in formats.c names the family specs, and the specs' hooks call
 * these, so the helpers live apart from the driver (no circle).
 */
#include "norm.h"

int ah_norm_role_col(const ah_norm *c, size_t role)
{
    return role < c->csv_fmt->spec->ncsv_roles ? c->role_col[role] : -1;
}

ah_span ah_norm_role_cell(const ah_norm *c, size_t role)
{
    int col = ah_norm_role_col(c, role);
    if (col < 0 || !c->row || (size_t)col >= c->row->ncells)
        return AH_SPAN_NULL;
    return c->row->cells[col];
}

ah_span ah_norm_field(const ah_norm *c, ah_field_id f)
{
    return c->fset[f] ? ah_view_span(&c->view, c->fval[f]) : AH_SPAN_NULL;
}

void ah_norm_set_fixed(ah_norm *c, ah_field_id f, const char *s)
{
    c->fval[f] = ah_val_abs(ah_span_cstr(s));
    c->fset[f] = s && *s;
}

bool ah_span_blank(ah_span v) { return ah_span_trim(v).n == 0; }

/* First candidate with a real value; a placeholder only when nothing better. */
bool ah_norm_pick_text(ah_norm *c, const ah_pathlist *l, ah_val *out)
{
    bool have_placeholder = false;
    ah_val placeholder = {0};
    for (size_t i = 0; i < l->n; i++) {
        ah_val t;
        if (!ah_view_path_text(&c->view, &l->v[i], &t))
            continue;
        ah_span s = ah_view_span(&c->view, t);
        if (ah_span_blank(s))
            continue;
        if (ah_is_placeholder(s)) {
            if (!have_placeholder) {
                placeholder = t;
                have_placeholder = true;
            }
            continue;
        }
        *out = t;
        return true;
    }
    if (have_placeholder)
        *out = placeholder;
    return have_placeholder;
}

bool ah_norm_aux_text(ah_norm *c, ah_aux a, ah_span *out)
{
    ah_val v;
    if (!ah_norm_pick_text(c, &c->map->aux[a], &v))
        return false;
    *out = ah_view_span(&c->view, v);
    return true;
}
